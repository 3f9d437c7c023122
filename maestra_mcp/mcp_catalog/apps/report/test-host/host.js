// The host side of MCP Apps for the browser tests (tests/ui/test_report_view.py):
// ext-apps' own AppBridge renders the view HTML in a sandboxed iframe the way
// chat hosts do, and the test drives it through window.reportHost.

import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const events = { sizes: [], logs: [], initialized: false };
let bridge = null;
let frame = null;

/** Load `html` into a sandboxed iframe `width` px wide and complete ui/initialize. */
async function start({ html, width, hostContext }) {
  frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.title = "MCP App";
  frame.style.cssText = `width:${width}px;height:${hostContext.containerDimensions?.maxHeight ?? 500}px;border:0;display:block`;
  document.body.append(frame);

  bridge = new AppBridge(
    null,
    { name: "Maestra test host", version: "1.0.0" },
    { openLinks: {}, logging: {} },
    { hostContext },
  );
  bridge.onsizechange = ({ width: w, height }) => {
    events.sizes.push({ width: w, height });
    if (height !== undefined) frame.style.height = `${height}px`;
  };
  bridge.onloggingmessage = (params) => events.logs.push(params);
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = () => {
      events.initialized = true;
      resolve();
    };
  });
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.srcdoc = html;
  await initialized;
}

window.reportHost = {
  start,
  events,
  sendToolInput: (args) => bridge.sendToolInput({ arguments: args }),
  sendToolResult: (result) => bridge.sendToolResult(result),
  setHostContext: (context) => bridge.setHostContext(context),
};
