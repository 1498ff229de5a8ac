"""Fill cells of a workbook in LibreOffice itself and save it as .xlsx, as a clerk would.

    /usr/bin/python3 tests/lo_fill.py SOURCE.xlsx TARGET.xlsx EDITS.json PROFILE_DIR

Run by Debian's Python, which has LibreOffice's UNO bridge (python3-uno): it starts a headless
soffice listening on a free port on 127.0.0.1, opens SOURCE, types each edit into its cell
(`{"sheet", "row", "col"}` zero-based, and `"text"` stored as text, or `"typed"` entered as
typed at the keyboard, which Calc parses: 999 becomes a number), saves the workbook with
Calc's own Excel 2007–365 filter and quits. Used by tests/test_intake.py.
"""

import json
import socket
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def main(source, target, edits, profile):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    where = f"socket,host=127.0.0.1,port={port};urp;"
    office = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                               "--norestore", "--nologo", "--nodefault", f"--accept={where}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + 120
        while True:
            try:
                remote = resolver.resolve(f"uno:{where}StarOffice.ComponentContext")
                break
            except Exception:
                if time.monotonic() > deadline or office.poll() is not None:
                    raise SystemExit("LibreOffice did not start")
                time.sleep(0.5)
        desktop = remote.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", remote)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0, (prop("Hidden", True),))
        for edit in json.loads(open(edits, encoding="utf-8").read()):
            cell = doc.Sheets.getByName(edit["sheet"]).getCellByPosition(edit["col"], edit["row"])
            if "text" in edit:
                cell.setString(edit["text"])
            else:
                cell.setFormula(edit["typed"])
        doc.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # the bridge goes away as soffice quits
            pass
        office.wait(60)
    finally:
        if office.poll() is None:
            office.kill()


if __name__ == "__main__":
    main(*sys.argv[1:5])
