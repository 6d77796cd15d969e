/**
 * The Python side of a headless notebook run, passed to Debian's /usr/bin/python3 with `-c`.
 *
 * It uses nbconvert's own ExecutePreprocessor and HTMLExporter (what `python3 -m nbconvert
 * --execute --to notebook` and `--to html` do) in one process, with two differences that matter:
 * on a cell error it still writes the partially executed notebook, because tslab reports a failure
 * as a stderr stream in the cell while nbconvert's exception text is an empty `<Error>:`; and it
 * reports which cell was running, as one JSON line on stdout.
 *
 * argv: source.ipynb out.ipynb out.html kernel_name timeout_seconds(<=0: none) working_dir exclude_input(0|1)
 * exit: 0 ok; 3 execution failed (out.ipynb written, no HTML); anything else: nbconvert itself failed.
 */
export const NBCONVERT_DRIVER = String.raw`
import json, os, signal, sys
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

src, out_nb, out_html, kernel, timeout, cwd, exclude_input = sys.argv[1:8]
timeout = int(timeout)

class Tracking(ExecutePreprocessor):
    current = None
    def preprocess_cell(self, cell, resources, index):
        self.current = index
        return super().preprocess_cell(cell, resources, index)

nb = nbformat.read(src, as_version=4)
ep = Tracking(kernel_name=kernel, timeout=(timeout if timeout > 0 else None))

def stop(signum, frame):
    # The kernel runs in a session of its own: stop its whole process group, then leave at once
    # (no partial notebook is written).
    km = getattr(ep, "km", None)
    prov = getattr(km, "provisioner", None) if km is not None else None
    pgid = getattr(prov, "pgid", None) if prov is not None else None
    if pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(128 + signum)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
status = {"ok": True, "cell": None, "error": None}
try:
    ep.preprocess(nb, {"metadata": {"path": cwd}})
except Exception as e:  # cell errors, cell timeouts, a dead kernel or a kernel that cannot start
    status = {"ok": False, "cell": ep.current, "error": (type(e).__name__ + ": " + str(e))[-4000:]}
if status["ok"]:
    # tslab sends no execute_input message, so nbclient records no execution counts: number the
    # code cells in the order they ran, as a live session would.
    n = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            n += 1
            if cell.get("execution_count") is None:
                cell.execution_count = n
nbformat.write(nb, out_nb)
if status["ok"]:
    body, _ = HTMLExporter(template_name="lab", exclude_input=(exclude_input == "1")).from_notebook_node(nb)
    with open(out_html, "w", encoding="utf-8") as f:
        f.write(body)
print("SID_STATUS " + json.dumps(status), flush=True)
sys.exit(0 if status["ok"] else 3)
`;
