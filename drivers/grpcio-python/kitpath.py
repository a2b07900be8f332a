"""Puts drivers/pykit, the kit every Python driver shares, on sys.path:
import this before driverkit or kittest."""

import os
import sys

KIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pykit")
if KIT not in sys.path:
    sys.path.insert(0, KIT)
