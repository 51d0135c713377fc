"""meterbench: the simulated bench for scripts (scripts/truth-curves, scripts/crash-test).

Starts `meterbench sim` in lockstep on free ports (port 0: the kernel picks them, so runs never
collide with another simulator on the machine), writes a bench file pointing at it, and stops
it again by the process id it started (never by name).
"""
import json
import os
import re
import signal
import subprocess
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def meterbench():
    """The built executable (MTB_BUILD_DIR as for scripts/build)."""
    return os.path.join(ROOT, os.environ.get("MTB_BUILD_DIR", "build"), "bench", "meterbench")


class Sim:
    """A `meterbench sim --lockstep` process and a bench file for it in workdir."""

    def __init__(self, config, workdir, seed=None, mb=None):
        self.mb = mb or meterbench()
        os.makedirs(workdir, exist_ok=True)
        self.err_path = os.path.join(workdir, "sim.err")
        cmd = [self.mb, "sim", "--config", config, "--lockstep", "--listen", "127.0.0.1:0"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, cwd=ROOT, text=True)
        line = self.proc.stdout.readline()     # the ready line, or "" when it exited
        if not line:
            self.proc.wait()
            self.err.close()
            raise RuntimeError("simulator did not start: " + open(self.err_path).read().strip())
        ready = json.loads(line)
        self.modbus, self.http = ready["modbus_tcp"], ready["http"]
        self.n_meters = ready.get("meters", 0)
        # a can simulator announces its balance's pseudo-terminal: the can bench file
        self.balance = ready.get("balance")
        name = "sim-can.yaml" if self.balance else "sim.yaml"
        with open(os.path.join(ROOT, "configs", "benches", name), encoding="utf-8") as f:
            text = f.read()
        text = text.replace("127.0.0.1:15020", self.modbus).replace("127.0.0.1:15080", self.http)
        if self.balance:
            text = text.replace("/tmp/meterbench-sim-balance", self.balance)
        self.bench = os.path.join(workdir, "bench.yaml")
        with open(self.bench, "w", encoding="utf-8") as f:
            f.write(text)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def plan_for(sim_config_path, path, points=None, name=None, n_meters=None):
    """Writes a verification plan for the meters of a simulator configuration (all, or the first
    n_meters), in line order (positions 1..N), at the demo plan's points unless given. Returns
    path."""
    import yaml
    with open(sim_config_path, encoding="utf-8") as f:
        sim = yaml.safe_load(f)
    if n_meters is not None:
        sim["meters"] = sim["meters"][:n_meters]
    types = {m["type"] for m in sim["meters"]}
    if len(types) != 1:
        raise ValueError(f"{sim_config_path}: a plan has one meter type, the configuration has {sorted(types)}")
    if points is None:
        points = [
            "{ name: Q1, base: q1, from: 1.0, to: 1.1, min_volume_l: 0.5, max_volume_l: 20 }",
            "{ name: Q2, base: q2, from: 1.0, to: 1.1, min_volume_l: 0.5, max_volume_l: 50 }",
            "{ name: Q3, base: q3, from: 0.9, to: 1.0, min_volume_l: 10,  max_volume_l: 200 }",
        ]
    lines = [f"name: {name or sim['name']}",
             f"description: every meter of {os.path.basename(sim_config_path)}, generated",
             f"meter_type: {types.pop()}", "standard: r49-2013", "mode: verification", "start: flying",
             "operator: script", "meters:"]
    lines += [f"  - {{ position: {i + 1}, serial: {m['serial']} }}" for i, m in enumerate(sim["meters"])]
    lines += ["points:"] + [f"  - {p}" for p in points]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def wait_file(path, timeout_s=10.0):
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.05)
    return False


SESSION_RE = re.compile(r"^session (\S+): ")
