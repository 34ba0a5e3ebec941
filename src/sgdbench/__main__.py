import sys

from sgdbench.cli import main

sys.exit(main())
