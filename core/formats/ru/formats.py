# Одна запись даты и времени везде: на экранах и в письмах; "T" называет пояс (MSK, GMT, EST).
DATETIME_FORMAT = "d.m.Y H:i T"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "j E Y г."
SHORT_DATE_FORMAT = "d.m.Y"
