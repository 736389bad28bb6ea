"""The `clientele` command: set up, run and operate Clientele.

clientele demo [--size N]     create ./clientele-data, load the demo company, serve
clientele serve               web + background jobs in one process (embedded default)
clientele web / worker        separate web and job processes (production)
clientele migrate | createuser | import | export | check | classify
clientele manage ARGS...      any Django management command
"""

import argparse
import os
import sys
import threading


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientele.settings")
    import django

    django.setup()


def _manage(*args):
    from django.core.management import execute_from_command_line

    execute_from_command_line(["clientele", *args])


def _add_server_args(parser, default_port=8000):
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", default_port)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "8")))


def _serve_web(host, port, threads, banner=""):
    from waitress import serve

    from clientele.wsgi import application

    print(banner or f"Clientele is running at http://{host}:{port}/", flush=True)
    serve(application, host=host, port=port, threads=threads, ident="clientele")


def _run_consumer(workers: int):
    """Run the job consumer in this (main) thread until interrupted."""
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    # A worker must know every job before it reads the queue: a job queued by the web
    # process whose module the worker never imported would be dropped as unknown.
    autodiscover_modules("tasks")
    consumer = HUEY.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


def _serve_all(host, port, threads, workers, banner=""):
    """Web server in a thread, job consumer in the main thread (it owns the signals)."""
    web = threading.Thread(
        target=_serve_web, args=(host, port, threads, banner), name="web", daemon=True
    )
    web.start()
    _run_consumer(workers)


def cmd_demo(args):
    from django.core.management import call_command

    from clientele.demo.loader import ensure_demo

    call_command("migrate", verbosity=0, interactive=False)
    login = ensure_demo(size=args.size, seed=args.seed, stdout=sys.stdout)
    banner = (
        f"\nClientele demo is ready at http://{args.host}:{args.port}/\n"
        f"Sign in as {login.username} / {login.password}\n"
    )
    if args.no_serve:
        print(banner, flush=True)
        return
    _serve_all(args.host, args.port, args.threads, args.workers, banner)


def cmd_serve(args):
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    _serve_all(args.host, args.port, args.threads, args.workers)


def cmd_web(args):
    _serve_web(args.host, args.port, args.threads)


def cmd_worker(args):
    _run_consumer(args.workers)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="clientele", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="load the demo company and serve it")
    _add_server_args(demo)
    demo.add_argument("--size", type=int, default=20000, help="number of customers")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--workers", type=int, default=2)
    demo.add_argument("--no-serve", action="store_true", help="load the data and stop")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="web and background jobs in one process")
    _add_server_args(serve)
    serve.add_argument("--workers", type=int, default=2)
    serve.set_defaults(func=cmd_serve)

    web = sub.add_parser("web", help="the web server only")
    _add_server_args(web)
    web.set_defaults(func=cmd_web)

    worker = sub.add_parser("worker", help="the background job worker only")
    worker.add_argument("--workers", type=int, default=2)
    worker.set_defaults(func=cmd_worker)

    # Commands that are Django management commands with their own options.
    passthrough = {
        "migrate": "migrate",
        "createuser": "createuser",
        "import": "import_file",
        "export": "export_data",
        "check": "check",
        "classify": "classify",
        "dispatch": "dispatch_outbox",
    }
    for name in passthrough:
        sub.add_parser(name, help=f"see `clientele {name} --help`", add_help=False)
    sub.add_parser("manage", help="run a Django management command", add_help=False)

    if argv and argv[0] in passthrough:
        _setup()
        _manage(passthrough[argv[0]], *argv[1:])
        return
    if argv and argv[0] == "manage":
        _setup()
        _manage(*argv[1:])
        return
    args = parser.parse_args(argv)
    _setup()
    args.func(args)


if __name__ == "__main__":
    main()
