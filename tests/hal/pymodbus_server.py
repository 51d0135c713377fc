#!/usr/bin/python3
"""An independent Modbus TCP server for the HAL's tests: Debian's python3-pymodbus (3.0) serving
the simulated bench's register map (docs/sim-register-map.md) with fixed values, each encoded
here with Python's struct module in the device's word order. Prints "port N" once listening,
then serves until killed. Usage: pymodbus_server.py [PORT] (0 or absent: a free port)."""
import asyncio
import logging
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer
from pymodbus.transaction import ModbusSocketFramer


def words(fmt, value, order):
    """Registers of value packed big-endian, then rearranged into ABCD/CDAB/BADC/DCBA."""
    b = struct.pack(">" + fmt, value)
    ws = [b[i:i + 2] for i in range(0, len(b), 2)]
    if order in ("CDAB", "DCBA"):
        ws.reverse()
    if order in ("BADC", "DCBA"):
        ws = [w[::-1] for w in ws]
    return [int.from_bytes(w, "big") for w in ws]


def unit(hr=None, ir=None, co=None, di=None):
    def block(vals):
        vals = list(vals or [])
        return ModbusSequentialDataBlock(0, vals + [0] * (16 - len(vals)))
    return ModbusSlaveContext(hr=block(hr), ir=block(ir), co=block(co), di=block(di), zero_mode=True)


# The values the C test expects (tests/hal/test_pymodbus.cpp).
UNITS = {
    100: unit(hr=words("Q", 1234567890123, "ABCD") + [0, 0]),
    1: unit(co=[1], hr=[4000], ir=[3995], di=[0]),
    2: unit(co=[0], di=[0, 1]),
    3: unit(hr=[2500], ir=[2490]),
    10: unit(ir=words("f", 512.5, "CDAB") + words("d", 98765.4321, "ABCD") + words("I", 987654321, "CDAB")),
    20: unit(ir=words("f", 101.325, "BADC")),
    21: unit(ir=words("f", 250.5, "BADC")),
    30: unit(ir=words("h", 1987, "ABCD")),
    31: unit(ir=words("f", 20.25, "DCBA")),
}


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    context = ModbusServerContext(slaves=UNITS, single=False)
    server = ModbusTcpServer(context, ModbusSocketFramer, None, ("127.0.0.1", port), allow_reuse_address=True)
    task = asyncio.ensure_future(server.serve_forever())
    while server.server is None:
        await asyncio.sleep(0.01)
    print("port", server.server.sockets[0].getsockname()[1], flush=True)
    await task


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(main())
