"""load: time and peak RSS to load a large zone (issue 4). Filled in below."""

NAME = "load"
HELP = "time and peak RSS to load a large zone (dnsd import + start vs NSD, Knot)"


def options(p):
    p.add_argument("--records", type=int, default=1000000, help="records in the generated zone (default %(default)s)")


def run(ctx):
    raise RuntimeError("load scenario not implemented yet")
