// A Standard Webhooks receiver in Node, verifying with the npm `standardwebhooks` package.
// stdin: {"secret": "whsec_...", "requests": [{"headers": {...}, "body": "<base64>"}]}
// stdout: one verdict per request, in order: "accepted" or "rejected: <why>".
// A webhook-id already accepted is a replay and is rejected, as the spec advises receivers to do.
"use strict";
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const { secret, requests } = JSON.parse(input);
  const hook = new Webhook(secret);
  const seen = new Set();
  const verdicts = requests.map(({ headers, body }) => {
    const payload = Buffer.from(body, "base64").toString("utf8");
    try {
      hook.verify(payload, headers);
    } catch (error) {
      return `rejected: ${error.message}`;
    }
    const id = headers["webhook-id"];
    if (seen.has(id)) {
      return "rejected: replayed webhook-id";
    }
    seen.add(id);
    return "accepted";
  });
  process.stdout.write(JSON.stringify(verdicts));
});
