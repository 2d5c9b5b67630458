#!/usr/bin/env python3
"""ptyrun.py [--sigint-when-exists PATH] CMD...: runs CMD with its stderr on a
pseudo-terminal (stdin and stdout as given) and prints what the terminal
received, control bytes made visible: CR as <CR>, ESC[K as <EL>, ESC as <ESC>;
newlines stay newlines.  With --sigint-after, sends SIGINT to CMD (as Ctrl-C
would) once PATH exists, and echoes ^C on the terminal as a terminal does.  The last line is "exit N" (128+signal when killed)."""
import os, pty, select, signal, subprocess, sys

args = sys.argv[1:]
trigger = None
if args[:1] == ["--sigint-when-exists"]:
    trigger, args = args[1], args[2:]
master, slave = pty.openpty()
p = subprocess.Popen(args, stderr=slave, start_new_session=True)
os.close(slave)
out = b""
sent = False
idle = 0.0
while True:
    if trigger is not None and not sent and os.path.exists(trigger):
        out += b"^C"
        os.killpg(p.pid, signal.SIGINT)  # as the terminal does: the whole group
        sent = True
    r, _, _ = select.select([master], [], [], 0.05)
    if not r:
        idle += 0.05
        if idle > 60:
            p.kill()
            out += b"\n[ptyrun: 60 s without output]"
            break
        continue
    idle = 0.0
    try:
        data = os.read(master, 65536)
    except OSError:          # EIO: every writer closed the terminal
        break
    if not data:
        break
    out += data
rc = p.wait()
text = out.decode("utf-8", "replace").replace("\r\n", "\n")
text = text.replace("\r", "<CR>").replace("\x1b[K", "<EL>").replace("\x1b", "<ESC>")
sys.stdout.write(text if text else "(nothing)")
if text and not text.endswith("\n"):
    sys.stdout.write("<no newline at end>\n")
if not text:
    sys.stdout.write("\n")
print("exit", rc if rc >= 0 else 128 - rc)
