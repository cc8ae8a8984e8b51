"""Runs a command on a pseudo-terminal and plays a script against it.

Usage: pty_drive.py SCRIPT_JSON -- COMMAND [ARGS...]

SCRIPT_JSON is a list of steps: ["expect", TEXT] waits until the output so far contains TEXT
(after the previous expectation), ["send", TEXT] types TEXT. The whole output is written to
stdout at the end; the exit status is the command's (or 124 when an expectation was never
met: a guard against hanging, not a timing assertion).
"""
import json
import os
import pty
import select
import sys
import termios

GUARD_SECONDS = 30


def main():
    sep = sys.argv.index("--")
    steps = json.loads(sys.argv[1])
    argv = sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        # The terminal outside the program's own raw reads passes keys on as bytes: no line
        # buffering, no echo, no signal keys. So a key is the program's whenever it arrives
        # (a person types slower than the program switches modes; this script does not), and
        # Ctrl-C / Ctrl-D reach it as the keys they are.
        attrs = termios.tcgetattr(0)
        attrs[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG)
        termios.tcsetattr(0, termios.TCSANOW, attrs)
        os.execvp(argv[0], argv)
    seen = b""
    pos = 0

    def read_some(timeout):
        nonlocal seen
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:
            return None
        if not data:
            return None
        seen += data
        return True

    for kind, text in steps:
        if kind == "send":
            os.write(fd, text.encode())
            continue
        needle = text.encode()
        while needle not in seen[pos:]:
            got = read_some(GUARD_SECONDS)
            if not got:
                sys.stdout.write(seen.decode(errors="replace"))
                sys.stdout.write("\n[pty_drive] never saw %r\n" % text)
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                sys.exit(124)
        pos = seen.index(needle, pos) + len(needle)
    while True:
        got = read_some(GUARD_SECONDS)
        if got is None:
            break
        if not got:
            sys.stdout.write(seen.decode(errors="replace"))
            sys.stdout.write("\n[pty_drive] the command did not exit\n")
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.exit(124)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
