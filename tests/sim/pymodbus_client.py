#!/usr/bin/python3
"""The simulator seen by an independent Modbus implementation: pymodbus (Debian's 3.0.0) as the
client, over TCP and over RTU on a socat pseudo-terminal pair. Decodes the word orders of
docs/sim-register-map.md with Python's struct module and compares with the test-only
/truth.json. Also checks that two simulator processes driven by the same requests in lockstep
end with identical totals.

usage: pymodbus_client.py PATH/TO/meterbench
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

from pymodbus.client import ModbusSerialClient, ModbusTcpClient

MB = sys.argv[1]
passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + ("  " + str(detail) if detail else ""))


def regs_bytes(regs):
    return b"".join(struct.pack(">H", r) for r in regs)


def f32(regs, order):
    w = regs_bytes(regs)  # bytes as on the wire
    # position of A, B, C, D on the wire for each order (docs/bench-config.md)
    idx = {"ABCD": (0, 1, 2, 3), "CDAB": (2, 3, 0, 1), "BADC": (1, 0, 3, 2), "DCBA": (3, 2, 1, 0)}[order]
    return struct.unpack(">f", bytes(w[i] for i in idx))[0]


def u32(regs, order):
    w = regs_bytes(regs)
    idx = {"ABCD": (0, 1, 2, 3), "CDAB": (2, 3, 0, 1)}[order]
    return struct.unpack(">I", bytes(w[i] for i in idx))[0]


def start_sim(*extra):
    p = subprocess.Popen([MB, "sim", "--config", "demo", "--lockstep", "--listen", "127.0.0.1:0", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = json.loads(p.stdout.readline())
    return p, ready


def stop_sim(p):
    p.terminate()
    try:
        return p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return -1


def truth(ready):
    with urllib.request.urlopen("http://%s/truth.json" % ready["http"], timeout=5) as r:
        return json.loads(r.read())


def advance(c, us):
    rr = c.write_registers(4, [us >> 16, us & 0xFFFF], slave=100)
    return not rr.isError()


def run_script(c):
    """The same sequence of requests a bench would send: purge, then near Q1."""
    c.write_register(0, 5000, slave=1)
    c.write_coil(0, True, slave=1)
    c.write_coil(0, True, slave=2)
    c.write_register(0, 10000, slave=3)
    for _ in range(30):
        advance(c, 1000000)
    c.write_register(0, 250, slave=3)
    for _ in range(120):
        advance(c, 1000000)
    return c.read_input_registers(0, 8, slave=10).registers


# ---- TCP ---------------------------------------------------------------------------------------
p, ready = start_sim()
host, port = ready["modbus_tcp"].rsplit(":", 1)
c = ModbusTcpClient(host, port=int(port), timeout=1)
check("tcp connect", c.connect())

rr = c.read_holding_registers(0, 4, slave=100)
check("clock starts at 0", not rr.isError() and rr.registers == [0, 0, 0, 0], rr)
check("advance 1.5 s", advance(c, 1500000))
rr = c.read_holding_registers(0, 4, slave=100)
t = struct.unpack(">Q", regs_bytes(rr.registers))[0]
check("clock at 1 500 000 us", t == 1500000, t)

ref = run_script(c)
tr = truth(ready)
total_l = struct.unpack(">d", regs_bytes(ref[2:6]))[0]
check("totaliser float64 ABCD = truth", total_l == tr["reference"]["indicated_ul"] / 1e6,
      (total_l, tr["reference"]["indicated_ul"]))
pulses = u32(ref[6:8], "CDAB")
check("pulses uint32 CDAB = 10 000/L", pulses == tr["reference"]["indicated_ul"] // 100, (pulses, tr["reference"]))
flow = f32(ref[0:2], "CDAB")
q = tr["flow_lph"]
check("flow float32 CDAB near the truth", abs(flow - q) < 0.02 * q + 0.5, (flow, q))
check("flow near Q1 of a DN15 R160", 5 < q < 40, q)

# near Q1 the line's loss (0.02 kPa) is below the transmitters' noise (0.3 kPa): both show the
# pump head shared with the nearly closed control valve, far above atmosphere
p_in = f32(c.read_input_registers(0, 2, slave=20).registers, "BADC")
p_out = f32(c.read_input_registers(0, 2, slave=21).registers, "BADC")
check("pressures float32 BADC, above 500 kPa and within noise of each other",
      p_in > 500 and p_out > 500 and abs(p_in - p_out) < 3, (p_in, p_out))
t_ref = struct.unpack(">h", struct.pack(">H", c.read_input_registers(0, 1, slave=30).registers[0]))[0] * 0.01
t_out = f32(c.read_input_registers(0, 2, slave=31).registers, "DCBA")
check("temperatures int16 x0.01 and float32 DCBA near 20 C", abs(t_ref - 20) < 0.2 and abs(t_out - 19.95) < 0.2,
      (t_ref, t_out))
rr = c.read_discrete_inputs(0, 2, slave=2)
check("inlet valve end switches: open", rr.bits[0] is True and rr.bits[1] is False, rr.bits[:2])
rr = c.read_input_registers(0, 1, slave=1)
check("pump frequency 50.00 Hz", rr.registers[0] == 5000, rr.registers)

rr = c.read_input_registers(0, 1, slave=99)
check("absent unit: exception 11", rr.isError() and getattr(rr, "exception_code", None) == 11, rr)
rr = c.read_input_registers(6, 4, slave=10)
check("past the map: exception 2", rr.isError() and getattr(rr, "exception_code", None) == 2, rr)
rr = c.write_register(0, 6001, slave=1)
check("60.01 Hz: exception 3", rr.isError() and getattr(rr, "exception_code", None) == 3, rr)

req = urllib.request.Request("http://%s/faults?kind=exception&unit=30&code=6&count=1" % ready["http"], method="POST")
urllib.request.urlopen(req, timeout=5).read()
rr = c.read_input_registers(0, 1, slave=30)
check("run-time fault: exception 6 once", rr.isError() and getattr(rr, "exception_code", None) == 6, rr)
rr = c.read_input_registers(0, 1, slave=30)
check("then normal again", not rr.isError(), rr)
c.close()
check("sim exits cleanly on SIGTERM", stop_sim(p) == 0)

# ---- lockstep determinism across processes --------------------------------------------------------
results = []
for k in range(2):
    p, ready = start_sim()
    host, port = ready["modbus_tcp"].rsplit(":", 1)
    c = ModbusTcpClient(host, port=int(port), timeout=1)
    c.connect()
    ref = run_script(c)
    results.append((ref, truth(ready)))
    c.close()
    stop_sim(p)
check("two processes, same requests: identical reference registers", results[0][0] == results[1][0])
check("two processes, same requests: identical truth", results[0][1] == results[1][1])

# ---- RTU over socat -------------------------------------------------------------------------------
d = tempfile.mkdtemp(prefix="mtb-sim-py-")
a, b = os.path.join(d, "ttyA"), os.path.join(d, "ttyB")
socat = subprocess.Popen(["socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(200):
    if os.path.exists(a) and os.path.exists(b):
        break
    time.sleep(0.01)
p, ready = start_sim("--rtu", b)
# pymodbus 3.0.0rc1 (Debian 12) keeps only the integer part of the timeout (0.5 -> 0, no wait)
c = ModbusSerialClient(port=a, baudrate=115200, timeout=1)
check("rtu connect", c.connect())
check("rtu advance", advance(c, 2000000))
rr = c.read_holding_registers(0, 4, slave=100)
check("rtu clock", not rr.isError() and struct.unpack(">Q", regs_bytes(rr.registers))[0] == 2000000, rr)
rr = c.read_input_registers(0, 8, slave=10)
check("rtu reference registers", not rr.isError() and len(rr.registers) == 8, rr)
req = urllib.request.Request("http://%s/faults?kind=bad-crc&unit=30&count=1" % ready["http"], method="POST")
urllib.request.urlopen(req, timeout=5).read()
try:
    rr = c.read_input_registers(0, 1, slave=30)
    bad = rr.isError()
except Exception:  # pymodbus may raise on a frame it cannot accept
    bad = True
check("rtu bad CRC is refused by the client", bad, rr)
time.sleep(0.2)
rr = c.read_input_registers(0, 1, slave=30)
check("rtu then normal again", not rr.isError(), rr)
c.close()
stop_sim(p)
socat.terminate()
socat.wait()
for f in (a, b):
    if os.path.lexists(f):
        os.unlink(f)
os.rmdir(d)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
