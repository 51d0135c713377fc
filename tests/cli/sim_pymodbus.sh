#!/bin/sh
# The simulator with an independent Modbus client (Debian's python3-pymodbus) over TCP and RTU:
# tests/sim/pymodbus_client.py. usage: sim_pymodbus.sh PATH/TO/meterbench
exec /usr/bin/python3 tests/sim/pymodbus_client.py "$1"
