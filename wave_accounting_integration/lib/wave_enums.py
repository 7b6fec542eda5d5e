"""Wave's ``CurrencyCode`` and ``CountryCode`` enums (Wave's public schema,
``rhanka/mcp-wave:data/wave-schema.graphql``): the one home of the values Wave accepts.

A GraphQL enum value Wave lacks fails the whole request at variable validation,
so every record of an aliased batch would fail with it: the outbound sync checks
a record's codes here before sending it (``unsupported_currency``,
``unsupported_country``) and quarantines only that record. Odoo knows codes
Wave lacks, e.g. the currencies VES, BYN and CNH and the country XK; Wave keeps
legacy codes such as BYR, EEK, LTL and ZMK.
"""

CURRENCY_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYR BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EEK EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GWP GYD HKD HNL HRK HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL
    LYD MAD MDL MGA MKD MMK MNT MOP MRO MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP
    SLL SOS SRD SSP STD SVC SYP SZL THB TJS TMM TND TOP TRY TTD TWD TZS UAH UGX USD UYU
    UZS VEF VND VUV WST XAF XCD XOF XPF YER ZAR ZMK ZMW ZWD
    """.split()
)
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
    JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)


def unsupported_currency(code):
    """True when Wave's ``CurrencyCode`` has no ``code`` (an empty code is not checked)."""
    return bool(code) and code not in CURRENCY_CODES


def unsupported_country(code):
    """True when Wave's ``CountryCode`` has no ``code`` (an empty code is not checked)."""
    return bool(code) and code not in COUNTRY_CODES
