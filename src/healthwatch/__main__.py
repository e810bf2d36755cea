"""``python -m healthwatch …``: the same command line as ``healthwatch …``."""

from healthwatch.cli import main

if __name__ == "__main__":
    main()
