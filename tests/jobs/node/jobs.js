// Drives the async job actions with the official Node SDK's CommonClient, unchanged, exactly as a
// user would for an action the SDK has no typed method for. Prints one JSON object on stdout.
// env: RESTYLE_ENDPOINT (host:port), RESTYLE_SECRET_ID, RESTYLE_SECRET_KEY, RESTYLE_IMAGE (base64)
"use strict";
const { CommonClient } = require("tencentcloud-sdk-nodejs-common");

const client = new CommonClient("aiart.tencentcloudapi.com", "2022-12-29", {
  credential: { secretId: process.env.RESTYLE_SECRET_ID, secretKey: process.env.RESTYLE_SECRET_KEY },
  region: "ap-singapore",
  profile: { httpProfile: { endpoint: process.env.RESTYLE_ENDPOINT, protocol: "http://", reqTimeout: 30 } },
});

async function failure(action, params) {
  try {
    await client.request(action, params);
  } catch (err) {
    return { code: err.code, message: err.message, requestId: err.requestId };
  }
  throw new Error(`${action} succeeded but should have failed`);
}

async function main() {
  const out = { queries: [] };
  const submitted = await client.request("SubmitImageToImageJob", {
    InputImage: process.env.RESTYLE_IMAGE,
    Styles: ["133"],
    Strength: 0.6,
    LogoAdd: 0,
  });
  out.submit = submitted;
  const deadline = Date.now() + 60000; // bounded: at most 60 s of polling
  let last;
  while (Date.now() < deadline) {
    last = await client.request("QueryImageToImageJob", { JobId: submitted.JobId });
    out.queries.push({ JobStatusCode: last.JobStatusCode, Progress: last.Progress });
    if (last.JobStatusCode === "5" || last.JobStatusCode === "4") break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  out.done = last;
  if (last && last.JobStatusCode === "5") {
    const res = await fetch(last.ResultImage[0]);
    const body = Buffer.from(await res.arrayBuffer());
    out.fetched = { status: res.status, contentType: res.headers.get("content-type"), bytes: body.length,
                    jpeg: body[0] === 0xff && body[1] === 0xd8 };
  }
  out.unknownJob = await failure("QueryImageToImageJob", { JobId: "no-such-job" });
  out.badStrength = await failure("SubmitImageToImageJob", { InputImage: process.env.RESTYLE_IMAGE, Strength: 3 });
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`node client failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
