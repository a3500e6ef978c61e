// @octokit/rest against the GitHub API emulator, run by clients_test.go with
// EMULATOR_URL (the API root, e.g. https://127.0.0.1:PORT/api/v3), EMULATOR_TOKEN and
// EMULATOR_REPO (owner/name: branch main, tag v1.0.0, owned by an organization). Each check prints
// "ok <name>"; the first failure throws and exits non-zero.
import { Octokit } from "@octokit/rest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";

const { EMULATOR_URL, EMULATOR_TOKEN, EMULATOR_REPO } = process.env;
const [owner, repo] = EMULATOR_REPO.split("/");
const octokit = new Octokit({ auth: EMULATOR_TOKEN, baseUrl: EMULATOR_URL, userAgent: "deployment-action-clients-suite" });
const at = { owner, repo };

async function check(name, fn) {
  await fn();
  console.log("ok", name);
}

// A webhook receiver that checks each delivery's signature and lets the script wait for events.
const secret = "clients-suite-secret";
const deliveries = [];
const waiters = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const want = "sha256=" + crypto.createHmac("sha256", secret).update(body).digest("hex");
    const got = req.headers["x-hub-signature-256"] ?? "";
    const valid = got.length === want.length && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want));
    deliveries.push({ event: req.headers["x-github-event"], hook: req.headers["x-github-hook-id"], valid, payload: JSON.parse(body) });
    res.writeHead(valid ? 200 : 401).end();
    for (const w of waiters.splice(0)) w();
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const hookURL = `http://127.0.0.1:${receiver.address().port}/webhook`;

// deliveriesOf resolves once n deliveries of event have arrived (the Go test bounds the wait).
async function deliveriesOf(event, n) {
  for (;;) {
    const got = deliveries.filter((d) => d.event === event);
    if (got.length >= n) return got;
    await new Promise((resolve) => waiters.push(resolve));
  }
}

let hookID;
await check("hooks: create (json, secret) and receive the ping", async () => {
  const { status, data } = await octokit.repos.createWebhook({ ...at, config: { url: hookURL, content_type: "json", secret }, events: ["deployment", "deployment_status"] });
  assert.equal(status, 201);
  assert.equal(data.config.secret, "********");
  hookID = data.id;
  const [ping] = await deliveriesOf("ping", 1);
  assert.ok(ping.valid, "ping signature");
  assert.equal(ping.payload.hook_id, hookID);
  assert.equal(ping.payload.organization.login, owner);
});

await check("hooks: list, get, config, ping", async () => {
  const { data: list } = await octokit.repos.listWebhooks(at);
  assert.deepEqual(list.map((h) => h.id), [hookID]);
  const { data: hook } = await octokit.repos.getWebhook({ ...at, hook_id: hookID });
  assert.deepEqual(hook.events, ["deployment", "deployment_status"]);
  const { data: cfg } = await octokit.repos.updateWebhookConfigForRepo({ ...at, hook_id: hookID, insecure_ssl: "0" });
  assert.equal(cfg.url, hookURL);
  assert.equal((await octokit.repos.getWebhookConfigForRepo({ ...at, hook_id: hookID })).data.content_type, "json");
  assert.equal((await octokit.repos.pingWebhook({ ...at, hook_id: hookID })).status, 204);
  await deliveriesOf("ping", 2);
});

await check("repository: an organization's, default branch main", async () => {
  const { data } = await octokit.repos.get(at);
  assert.equal(data.owner.type, "Organization");
  assert.equal(data.default_branch, "main");
});

let staging, stagingCased;
await check("deployments: create, statuses, get", async () => {
  ({ data: staging } = await octokit.repos.createDeployment({ ...at, ref: "main", environment: "staging", required_contexts: [], payload: { k: "v" }, auto_merge: false }));
  assert.equal(staging.environment, "staging");
  assert.deepEqual(staging.payload, { k: "v" });
  await octokit.repos.createDeploymentStatus({ ...at, deployment_id: staging.id, state: "in_progress", log_url: "https://ci.example/1" });
  const { data: st } = await octokit.repos.createDeploymentStatus({ ...at, deployment_id: staging.id, state: "success", environment_url: "https://staging.example.com" });
  assert.equal((await octokit.repos.getDeploymentStatus({ ...at, deployment_id: staging.id, status_id: st.id })).data.state, "success");
  const { data: sts } = await octokit.repos.listDeploymentStatuses({ ...at, deployment_id: staging.id });
  assert.deepEqual(sts.map((s) => s.state), ["success", "in_progress"]);
  assert.equal((await octokit.repos.getDeployment({ ...at, deployment_id: staging.id })).data.sha, staging.sha);
  // Another spelling of the environment's name is the same environment.
  ({ data: stagingCased } = await octokit.repos.createDeployment({ ...at, ref: "v1.0.0", environment: "Staging", required_contexts: [] }));
  assert.equal(stagingCased.environment, "Staging");
  await octokit.repos.createDeployment({ ...at, ref: staging.sha, environment: "production", task: "deploy:migrations", required_contexts: [] });
});

await check("deployments: errors are RequestErrors with GitHub's message", async () => {
  await assert.rejects(octokit.repos.createDeployment({ ...at, ref: "no-such-ref", required_contexts: [] }), (err) => {
    assert.equal(err.status, 422);
    assert.match(err.message, /No ref found for: no-such-ref/);
    return true;
  });
  await assert.rejects(octokit.repos.getDeployment({ ...at, deployment_id: 1 }), { status: 404 });
});

await check("environments: names ignore case", async () => {
  const { data: env } = await octokit.repos.getEnvironment({ ...at, environment_name: "STAGING" });
  assert.equal(env.name, "staging");
  const { data: all } = await octokit.repos.getAllEnvironments(at);
  assert.deepEqual(all.environments.map((e) => e.name).sort(), ["production", "staging"]);
  const { data: put } = await octokit.repos.createOrUpdateEnvironment({ ...at, environment_name: "review/pr-1", wait_timer: 1 });
  assert.equal(put.protection_rules[0].wait_timer, 1);
  assert.equal((await octokit.repos.deleteAnEnvironment({ ...at, environment_name: "review/pr-1" })).status, 204);
});

await check("deployments: list filters, empty ones included", async () => {
  const ids = async (params) => (await octokit.repos.listDeployments({ ...at, ...params })).data.map((d) => d.id);
  assert.equal((await ids({})).length, 3);
  assert.equal((await ids({ ref: "", sha: "", task: "", environment: "" })).length, 3);
  assert.deepEqual(await ids({ environment: "STAGING" }), [stagingCased.id, staging.id]);
  assert.deepEqual(await ids({ ref: "v1.0.0", environment: "" }), [stagingCased.id]);
  assert.equal((await ids({ sha: staging.sha })).length, 3); // v1.0.0 is main's head
  assert.equal((await ids({ task: "deploy:migrations" })).length, 1);
});

await check("deployments: octokit.paginate follows the Link headers", async () => {
  for (let i = 0; i < 23; i++) {
    await octokit.repos.createDeployment({ ...at, ref: "main", environment: "load", required_contexts: [] });
  }
  const all = await octokit.paginate(octokit.repos.listDeployments, { ...at, environment: "load", per_page: 10 });
  assert.equal(all.length, 23);
  assert.equal(new Set(all.map((d) => d.id)).size, 23);
  const urls = [];
  for await (const page of octokit.paginate.iterator(octokit.repos.listDeployments, { ...at, environment: "load", per_page: 10 })) {
    urls.push(page.url);
  }
  assert.equal(urls.length, 3);
  assert.match(urls[1], /\/repositories\/\d+\/deployments\?/, "GitHub's Link URLs name the repository by id");
});

await check("conditional requests: If-None-Match answers 304 and costs nothing", async () => {
  const first = await octokit.repos.listDeployments({ ...at, environment: "staging" });
  const etag = first.headers.etag;
  const remaining = first.headers["x-ratelimit-remaining"];
  assert.ok(etag);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(octokit.repos.listDeployments({ ...at, environment: "staging", headers: { "if-none-match": etag } }), (err) => {
      assert.equal(err.status, 304);
      assert.equal(err.response.headers["x-ratelimit-remaining"], remaining);
      return true;
    });
  }
});

await check("commit statuses and the combined status", async () => {
  await octokit.repos.createCommitStatus({ ...at, sha: staging.sha, state: "success", context: "ci/test" });
  const { data } = await octokit.repos.getCombinedStatusForRef({ ...at, ref: "main" });
  assert.equal(data.state, "success");
  assert.equal(data.statuses[0].context, "ci/test");
});

// strumwolf/delete-deployment-environment's requests with its default inputs (ref ""): list with
// ref= and page=0, deactivate every deployment found, delete them, then the environment.
await check("clean-up as strumwolf/delete-deployment-environment does it", async () => {
  const { data: found } = await octokit.request("GET /repos/{owner}/{repo}/deployments", { ...at, environment: "staging", ref: "", per_page: 100, page: 0 });
  assert.equal(found.length, 2, "its default inputs must find the environment's deployments");
  await Promise.all(found.map((d) => octokit.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", { ...at, deployment_id: d.id, state: "inactive" })));
  await Promise.all(found.map((d) => octokit.request("DELETE /repos/{owner}/{repo}/deployments/{deployment_id}", { ...at, deployment_id: d.id })));
  await octokit.request("GET /repos/{owner}/{repo}/environments/{environment_name}", { ...at, environment_name: "staging" });
  await octokit.request("DELETE /repos/{owner}/{repo}/environments/{environment_name}", { ...at, environment_name: "staging" });
  assert.equal((await octokit.repos.listDeployments({ ...at, environment: "staging" })).data.length, 0);
  await assert.rejects(octokit.repos.getEnvironment({ ...at, environment_name: "staging" }), { status: 404 });
});

await check("webhooks: deployment and deployment_status delivered, signed, with organization", async () => {
  // 3 + 23 deployments; 2 statuses (inactive ones are not delivered).
  const deps = await deliveriesOf("deployment", 26);
  const sts = await deliveriesOf("deployment_status", 2);
  for (const d of [...deps, ...sts]) {
    assert.ok(d.valid, `${d.event} signature`);
    assert.equal(d.hook, String(hookID));
    assert.equal(d.payload.organization.login, owner);
  }
  assert.deepEqual(sts.map((d) => d.payload.deployment_status.state), ["in_progress", "success"]);
});

await check("hooks: update and delete", async () => {
  const { data } = await octokit.repos.updateWebhook({ ...at, hook_id: hookID, active: false });
  assert.equal(data.active, false);
  assert.equal((await octokit.repos.deleteWebhook({ ...at, hook_id: hookID })).status, 204);
  await assert.rejects(octokit.repos.getWebhook({ ...at, hook_id: hookID }), { status: 404 });
});

receiver.close();
console.log("done");
