from . import webhook
from . import metrics
from . import oauth
