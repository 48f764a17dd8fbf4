#!/usr/bin/env python3
"""manflags.py: a man page lists exactly the commands and flags --help does.

    manflags.py [--inherit-root] PAGE PROGRAM

PAGE is the roff source (containerd.8, ctr.1, ...). Each usage line in it
(SYNOPSIS, and each .SS) names a command by its words in bold ("ctr
containers start"); the .TP entries after it, up to the next usage line,
are that command's flags. PROGRAM's --help is read for the same command:
its "Usage:" line and the flags of its "Options:" (or "flags:") block; a
"Commands:" block names the commands below it, whose --help is read too.

Both must agree: the same commands, each with the same usage line and the
same flags. --inherit-root: each command's --help also lists the root's
flags, which the page gives once (containerd-state). Prints one line per
difference and exits 1, or prints a summary and exits 0.
"""
import re
import subprocess
import sys


def unroff(s):
    s = re.sub(r"\\f[BIRP]", "", s)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    return s.replace("\\(aq", "'").replace("\\(ga", "`")


def bold_words(line):
    return " ".join(unroff(w) for w in re.findall(r"\\fB(.*?)\\fR", line))


def parse_page(path):
    """{command: (usage line, set of flags)}, in the page's order."""
    cmds = {}
    lines = open(path, encoding="utf-8").read().split("\n")
    cur = None
    k = 0
    while k < len(lines):
        ln = lines[k]
        usage = None
        if ln.startswith(".SS "):
            usage = ln[4:]
        elif ln == ".SH SYNOPSIS" and k + 2 < len(lines) and lines[k + 1] == ".PP":
            usage = lines[k + 2]
            k += 2
        if usage is not None:
            cur = bold_words(usage)
            if cur in cmds:
                raise SystemExit("%s: command %r described twice" % (path, cur))
            cmds[cur] = (unroff(usage), set())
        elif ln == ".TP" and cur is not None and k + 1 < len(lines):
            term = lines[k + 1]
            if term.startswith("\\fB\\-"):
                for name in re.findall(r"\\fB(\\-.*?)\\fR", term):
                    cmds[cur][1].add(unroff(name))
        k += 1
    return cmds


def help_text(argv):
    p = subprocess.run(argv + ["--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if p.returncode != 0:
        raise SystemExit("%s --help: exit %d" % (" ".join(argv), p.returncode))
    return p.stdout.decode()


def block(lines, titles):
    """The lines of the block under a title line, up to a blank one."""
    for k, ln in enumerate(lines):
        if ln.strip() in titles:
            out = []
            for b in lines[k + 1:]:
                if not b.strip():
                    break
                out.append(b)
            return out
    return []


def parse_help(argv, path):
    """Walks PROGRAM's --help: {command: (usage line, set of flags)}."""
    lines = help_text(argv).split("\n")
    m = re.match(r"(?i)usage: (.*)$", lines[0])
    usage = m.group(1) if m else "(no Usage: line)"
    flags = set()
    for ln in block(lines, ("Options:", "flags:")):
        indent = len(ln) - len(ln.lstrip(" "))
        if indent > 8 or not ln.lstrip().startswith("-"):
            continue  # a help text's further line
        names = re.split(r"\s{2,}", ln.strip())[0]
        flags.update(w.rstrip(",") for w in names.split() if w.startswith("-"))
    cmds = {path: (usage, flags)}
    for ln in block(lines, ("Commands:",)):
        verb = ln.split()[0]
        cmds.update(parse_help(argv + [verb], path + " " + verb))
    return cmds


def main(args):
    inherit = False
    if args and args[0] == "--inherit-root":
        inherit = True
        args = args[1:]
    page, prog = args
    name = prog.rsplit("/", 1)[-1]
    man = parse_page(page)
    hlp = parse_help([prog], name)
    if inherit and name in man:
        root = man[name][1]
        man = {c: (u, f | root) for c, (u, f) in man.items()}
    diffs = []
    for c in hlp:
        if c not in man:
            diffs.append("%s: in --help, not in %s" % (c, page))
    for c in man:
        if c not in hlp:
            diffs.append("%s: in %s, not in --help" % (c, page))
            continue
        (mu, mf), (hu, hf) = man[c], hlp[c]
        if mu != hu:
            diffs.append("%s: usage %r in the page, %r in --help" % (c, mu, hu))
        for f in sorted(hf - mf):
            diffs.append("%s: %s in --help, not in the page" % (c, f))
        for f in sorted(mf - hf):
            diffs.append("%s: %s in the page, not in --help" % (c, f))
    for d in diffs:
        print(d)
    if diffs:
        return 1
    print("%s: %d command(s), %d flag(s), the same in %s and --help" % (
        name, len(man), sum(len(f) for _, f in man.values()), page.rsplit("/", 1)[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
