"""Run by the `python` scenario inside its virtual environment (mlv and dvc importable):
one read through Python, timed inside the process so interpreter start and imports are
left out, printed as `op_secs <seconds> bytes <n>` for the scenario to read back.

    pyread.py read REPO PATH           mlv.read of one file
    pyread.py cat mlv|dvc REPO FOLDER  fs.cat of every file below FOLDER (find, then cat)
"""

import sys
import time


def main(argv):
    what = argv[0]
    if what == "read":
        import mlv

        t0 = time.perf_counter()
        n = len(mlv.read(argv[2], rev="HEAD", repo=argv[1]))
    else:
        tool, repo, folder = argv[1:4]
        if tool == "mlv":
            from mlv.filesystem import MlvFileSystem

            t0 = time.perf_counter()
            fs = MlvFileSystem(repo=repo, rev="HEAD", skip_instance_cache=True)
        else:
            from dvc.api import DVCFileSystem

            t0 = time.perf_counter()
            fs = DVCFileSystem(repo, rev="HEAD")
        files = fs.find(folder)
        n = sum(len(b) for b in fs.cat(files).values())
    secs = time.perf_counter() - t0
    print(f"op_secs {secs:.6f} bytes {n}")


if __name__ == "__main__":
    main(sys.argv[1:])
