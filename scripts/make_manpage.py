#!/usr/bin/python3
"""Writes the xrdbench(1) man page from the binary's own --help texts (the top-level one and every subcommand's),
so the page says what the built tool does.

usage: make_manpage.py XRDBENCH OUT.1
"""
import datetime
import os
import re
import subprocess
import sys


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    return p.returncode, p.stdout


def roff(text):
    """Preformatted text, escaped for roff: backslashes, and lines that would start a request."""
    out = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def commands(top_help):
    """(name, summary) of each subcommand from the 'Commands:' list of `xrdbench --help`."""
    result, seen = [], False
    for line in top_help.splitlines():
        if line.strip() == "Commands:":
            seen = True
            continue
        if seen and line.startswith("  "):
            m = re.match(r"^  (\S+(?: \S+)?)\s{2,}(.*)$", line) or re.match(r"^  (\S+(?: \S+)?) (.*)$", line)
            if m:
                result.append((m.group(1), m.group(2).strip()))
    return result


def main():
    exe, out = sys.argv[1], sys.argv[2]
    rc, top = run([exe, "--help"])
    if rc != 0:
        sys.exit("make_manpage: %s --help exited %d" % (exe, rc))
    _, version = run([exe, "--version"])
    cmds = commands(top)
    if not cmds:
        sys.exit("make_manpage: no 'Commands:' list in %s --help" % exe)
    date = datetime.date.today().isoformat()
    page = [
        '.TH XRDBENCH 1 "%s" "%s" "User Commands"' % (date, version.strip()),
        ".SH NAME",
        "xrdbench \\- benchmark and profile real-time X-ray diffraction data reduction",
        ".SH SYNOPSIS",
        ".B xrdbench",
        ".I command",
        "[\\fIoptions\\fR]",
        ".br",
        ".B xrdbench --help | --version",
        ".SH DESCRIPTION",
        ".nf",
        roff(top),
        ".fi",
        ".SH COMMANDS",
    ]
    for name, summary in cmds:
        rc, text = run([exe] + name.split() + ["--help"])
        if rc != 0:
            sys.exit("make_manpage: %s %s --help exited %d" % (exe, name, rc))
        page += [".SS xrdbench %s" % name, roff(summary), ".nf", roff(text), ".fi"]
    page += [
        ".SH FILES",
        ".TP",
        ".I <prefix>/share/xrdbench/reports/",
        "the report and comparison scripts run by \\fBxrdbench report\\fR and \\fBxrdbench compare\\fR",
        ".TP",
        ".I <prefix>/share/xrdbench/paper/table1.csv",
        "the paper's Table 1 for the report scripts (\\fBxrdbench table1\\fR has it compiled in)",
        ".SH ENVIRONMENT",
        ".TP",
        ".B XRD_PAPER_TABLE",
        "a CSV file that replaces the paper's Table 1 (table1 and the reports)",
        ".TP",
        ".B XRDBENCH_REPORTS_DIR",
        "a folder of report scripts to use instead of the installed ones",
        ".TP",
        ".B XRDBENCH_PYTHON",
        "the Python interpreter for the reports (default /usr/bin/python3)",
        ".SH SEE ALSO",
        "The README.md installed in <prefix>/share/doc/xrdbench.",
        "",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(page))


if __name__ == "__main__":
    main()
