from . import wave_golive_checklist
from . import wave_secret_rotation
from . import wave_business_select
from . import wave_historical_import
from . import wave_parity_report
from . import wave_export_file_import
