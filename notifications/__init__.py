import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())  # a library: the application decides where logs go
