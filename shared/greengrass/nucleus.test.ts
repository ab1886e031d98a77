/**
 * The nucleus with real child processes: lifecycle order and timeouts, configuration reaching the
 * scripts, rollback (from a failing new version, a failing first install, a broken previous state),
 * cancel during download and during install, and a component that ignores SIGTERM.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ArtifactServer, deploymentOf, linesOf, recipeOf, startTestNucleus } from './nucleus-testing';
import { waitUntil } from '../labs/poll-until';

let server: ArtifactServer;
before(async () => {
  server = await ArtifactServer.start();
});
after(async () => {
  await server.stop();
});

const long = (file: string, tag: string): string => `echo "${tag}" >> ${file}; exec sleep 600`;

function running(n: { components(): { componentName: string; version: string; componentStatus: string }[] }): string[] {
  return n.components().map((c) => `${c.componentName}@${c.version}:${c.componentStatus}`).sort();
}

test('lifecycle: dependencies install and start first; configuration and artifacts reach the scripts', async () => {
  const t = await startTestNucleus();
  try {
    const order = join(t.root, 'order.log');
    const { artifact, urls } = server.add('model-1.bin', 'weights v1');
    const model = recipeOf('Model', '1.0.0', { Install: `echo "Model install $(cat {artifacts:path}/model-1.bin)" >> ${order}`, Run: long(order, 'Model run') }, { Artifacts: [artifact] });
    const app = recipeOf('App', '1.0.0', { Install: `echo "App install {configuration:/threshold} {Model:artifacts:path}" >> ${order}`, Startup: `echo 'App startup {configuration:/window}' >> ${order}` }, {
      ComponentDependencies: { Model: { VersionRequirement: '^1.0.0' } },
      ComponentConfiguration: { DefaultConfiguration: { threshold: 3, window: { size: 64 } } },
    });
    const doc = deploymentOf({ App: '1.0.0' }, [model, app], { artifactUrls: urls });
    doc.components.App.configurationUpdate = { merge: { threshold: 5 } };
    const result = await t.nucleus.deploy(doc);
    assert.equal(result.status, 'SUCCEEDED', result.reason);
    assert.deepEqual(await linesOf(order), [
      'Model install weights v1',
      'Model run',
      `App install 5 ${join(t.root, 'packages', 'artifacts', 'Model', '1.0.0')}`,
      'App startup {"size":64}',
    ]);
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING', 'Model@1.0.0:RUNNING']);
    assert.deepEqual(t.nucleus.components().filter((c) => c.isRoot).map((c) => c.componentName), ['App']);
    // A restart brings the same set back, with the configuration it had.
    await t.restart();
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING', 'Model@1.0.0:RUNNING']);
    assert.equal((await linesOf(order)).at(-1), 'App startup {"size":64}');
  } finally {
    await t.cleanup();
  }
});

test('a step that outlives its timeout is stopped and retried, then BROKEN; the first deployment rolls back to nothing', async () => {
  const t = await startTestNucleus();
  try {
    const hang = recipeOf('Hang', '1.0.0', { Install: { Script: 'sleep 30', Timeout: 1 }, Run: 'sleep 600' });
    const started = Date.now();
    const result = await t.nucleus.deploy(deploymentOf({ Hang: '1.0.0' }, [hang]));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.detailedStatus, 'FAILED_ROLLBACK_COMPLETE');
    assert.match(result.reason as string, /Hang 1.0.0 install: Hang install timed out \(timeout 1 s\); 3 errors in a row/);
    assert.ok(Date.now() - started < 20_000, 'three 1 s attempts, not the 30 s sleep');
    assert.deepEqual(running(t.nucleus), [], 'a failed first deployment leaves no component');
    assert.equal(t.nucleus.currentDeploymentId(), undefined);
  } finally {
    await t.cleanup();
  }
});

test('a failing new version rolls back to the running one, with its configuration', async () => {
  const t = await startTestNucleus();
  try {
    const out = join(t.root, 'out.log');
    const v1 = recipeOf('App', '1.0.0', { Run: long(out, 'v1 {configuration:/mode}') }, { ComponentConfiguration: { DefaultConfiguration: { mode: 'a' } } });
    const v2 = recipeOf('App', '2.0.0', { Run: `echo v2 >> ${out}; exit 3` });
    const first = deploymentOf({ App: '1.0.0' }, [v1]);
    first.components.App.configurationUpdate = { merge: { mode: 'b' } };
    assert.equal((await t.nucleus.deploy(first)).status, 'SUCCEEDED');
    const result = await t.nucleus.deploy(deploymentOf({ App: '2.0.0' }, [v2]));
    assert.deepEqual([result.status, result.detailedStatus], ['FAILED', 'FAILED_ROLLBACK_COMPLETE']);
    assert.match(result.reason as string, /App 2.0.0 is BROKEN: App run failed with exit code 3; 3 errors in a row/);
    assert.deepEqual(result.errorTypes, ['COMPONENT_ERROR']);
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING']);
    assert.deepEqual(await linesOf(out), ['v1 b', 'v2', 'v2', 'v2', 'v1 b']);
    assert.equal(t.nucleus.currentDeploymentId(), first.deploymentId);
  } finally {
    await t.cleanup();
  }
});

test('when the previous set is itself broken, rollback goes to the last set that worked', async () => {
  const t = await startTestNucleus();
  try {
    const good = recipeOf('App', '1.0.0', { Run: 'exec sleep 600' });
    const broken = (v: string) => recipeOf('App', v, { Startup: 'exit 1' });
    const first = deploymentOf({ App: '1.0.0' }, [good]);
    assert.equal((await t.nucleus.deploy(first)).status, 'SUCCEEDED');
    const keepBroken = await t.nucleus.deploy(deploymentOf({ App: '2.0.0' }, [broken('2.0.0')], { failureHandlingPolicy: 'DO_NOTHING' }));
    assert.equal(keepBroken.detailedStatus, 'FAILED_ROLLBACK_NOT_REQUESTED');
    assert.deepEqual(running(t.nucleus), ['App@2.0.0:BROKEN']);
    assert.equal(t.nucleus.overallStatus(), 'UNHEALTHY');
    const again = await t.nucleus.deploy(deploymentOf({ App: '3.0.0' }, [broken('3.0.0')]));
    assert.equal(again.detailedStatus, 'FAILED_ROLLBACK_COMPLETE');
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING'], 'back to 1.0.0, not to the broken 2.0.0');
    assert.equal(t.nucleus.overallStatus(), 'HEALTHY');
  } finally {
    await t.cleanup();
  }
});

test('cancel during download changes nothing; cancel during install stops the step and rolls back', async () => {
  const t = await startTestNucleus();
  try {
    const v1 = recipeOf('App', '1.0.0', { Run: 'exec sleep 600' });
    assert.equal((await t.nucleus.deploy(deploymentOf({ App: '1.0.0' }, [v1]))).status, 'SUCCEEDED');

    const { artifact, urls } = server.add('big.bin', Buffer.alloc(200, 7), { slow: true });
    const v2 = recipeOf('App', '2.0.0', { Run: 'exec sleep 600' }, { Artifacts: [artifact] });
    const cancelDownload = new AbortController();
    const requestsBefore = server.requests;
    const downloading = t.nucleus.deploy(deploymentOf({ App: '2.0.0' }, [v2], { artifactUrls: urls }), cancelDownload.signal);
    await waitFor(() => t.log.some((l) => l.includes('downloading artifacts')));
    await waitFor(() => server.requests > requestsBefore); // the slow download is under way (200 bytes at 5 a second)
    cancelDownload.abort();
    const r1 = await downloading;
    assert.deepEqual([r1.status, r1.detailedStatus], ['CANCELED', 'CANCELED']);
    assert.match(r1.reason as string, /download canceled/);
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING'], 'v1 never stopped');

    const marker = join(t.root, 'install-started');
    const v3 = recipeOf('App', '3.0.0', { Install: `touch ${marker}; sleep 600`, Run: 'exec sleep 600' });
    const cancelInstall = new AbortController();
    const installing = t.nucleus.deploy(deploymentOf({ App: '3.0.0' }, [v3]), cancelInstall.signal);
    await waitFor(async () => (await linesOf(marker)).length >= 0 && (await exists(marker)));
    cancelInstall.abort();
    const r2 = await installing;
    assert.deepEqual([r2.status, r2.detailedStatus], ['CANCELED', 'CANCELED']);
    assert.match(r2.reason as string, /rolled back/);
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING']);
  } finally {
    await t.cleanup();
  }
});

test('a component that ignores SIGTERM is killed after its shutdown timeout', async () => {
  const t = await startTestNucleus();
  try {
    const pidFile = join(t.root, 'stubborn.pid');
    const stubborn = recipeOf('Stubborn', '1.0.0', { Run: `trap '' TERM; echo $$ > ${pidFile}; while true; do sleep 0.2; done`, Shutdown: { Script: 'true', Timeout: 1 } });
    assert.equal((await t.nucleus.deploy(deploymentOf({ Stubborn: '1.0.0' }, [stubborn]))).status, 'SUCCEEDED');
    const pid = Number((await linesOf(pidFile))[0]);
    assert.ok(alive(pid));
    const started = Date.now();
    const result = await t.nucleus.deploy(deploymentOf({ Other: '1.0.0' }, [recipeOf('Other', '1.0.0', { Run: 'exec sleep 600' })]));
    assert.equal(result.status, 'SUCCEEDED');
    assert.ok(!alive(pid), 'the stubborn process is gone');
    assert.ok(Date.now() - started < 15_000);
    assert.ok(t.log.some((l) => /Stubborn 1.0.0: FINISHED .*ignored SIGTERM and was killed/.test(l)), t.log.join('\n'));
  } finally {
    await t.cleanup();
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Polls what until it holds (the one polling helper); rejects after ms. */
function waitFor(what: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  return waitUntil('the condition', what, { timeoutMs: ms, intervalMs: 50, maxIntervalMs: 50 });
}

test('stopping the nucleus mid-deployment cancels it at once; the next start runs the last good set', async () => {
  const t = await startTestNucleus();
  try {
    assert.equal((await t.nucleus.deploy(deploymentOf({ App: '1.0.0' }, [recipeOf('App', '1.0.0', { Run: 'exec sleep 600' })]))).status, 'SUCCEEDED');
    const marker = join(t.root, 'installing');
    const pending = t.nucleus.deploy(deploymentOf({ App: '2.0.0' }, [recipeOf('App', '2.0.0', { Install: `touch ${marker}; sleep 600`, Run: 'exec sleep 600' })]));
    await waitFor(() => exists(marker));
    const started = Date.now();
    await t.restart();
    assert.ok(Date.now() - started < 20_000, 'the 600 s install did not hold the stop');
    assert.equal((await pending).status, 'CANCELED');
    assert.deepEqual(running(t.nucleus), ['App@1.0.0:RUNNING']);
  } finally {
    await t.cleanup();
  }
});

test('a new dependency version restarts its dependers (they resolved its paths); untouched components keep running', async () => {
  const t = await startTestNucleus();
  try {
    const out = join(t.root, 'starts.log');
    const model = (v: string) => recipeOf('Model', v, {});
    const app = recipeOf('App', '1.0.0', { Run: `echo "App sees {Model:artifacts:path}" >> ${out}; exec sleep 600` }, { ComponentDependencies: { Model: { VersionRequirement: '1.x' } } });
    const other = recipeOf('Other', '1.0.0', { Run: `echo Other >> ${out}; exec sleep 600` });
    const first = deploymentOf({ App: '1.0.0', Other: '1.0.0', Model: '1.0.0' }, [model('1.0.0'), app, other]);
    assert.equal((await t.nucleus.deploy(first)).status, 'SUCCEEDED');
    const second = deploymentOf({ App: '1.0.0', Other: '1.0.0', Model: '1.1.0' }, [model('1.0.0'), model('1.1.0'), app, other]);
    assert.equal((await t.nucleus.deploy(second)).status, 'SUCCEEDED');
    const artifacts = join(t.root, 'packages', 'artifacts', 'Model');
    assert.deepEqual((await linesOf(out)).sort(), [`App sees ${join(artifacts, '1.0.0')}`, `App sees ${join(artifacts, '1.1.0')}`, 'Other'].sort());
  } finally {
    await t.cleanup();
  }
});
