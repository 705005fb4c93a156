"""failover: time from killing a backend to the first answer without it (issue 3)."""

NAME = "failover"
HELP = "time from killing a backend to the first answer without it (dnsd vs gdnsd)"


def options(p):
    pass


def run(ctx):
    raise RuntimeError("failover scenario not implemented yet")
