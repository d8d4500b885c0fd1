"""``manage.py runreceiver``."""
