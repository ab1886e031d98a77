import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../edge/agent-testing';

const ROOT = resolve(__dirname, '..', '..');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'shared', 'cli', 'agent.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

test('npm run agent: --help, and one clear line with a non-zero exit for each user error', async () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--config <path>[\s\S]*--frames <source>[\s\S]*--capture-rate <share>/);
  const tmp = await tempDir('agent-cli-');
  try {
    writeFileSync(join(tmp.dir, 'device.json'), '{"thingName": "t"}');
    writeFileSync(join(tmp.dir, 'key.pem'), 'not a key');
    writeFileSync(join(tmp.dir, 'rsa.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(tmp.dir, 'ed.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const cases: [string[], RegExp][] = [
      [[], /required option '--config <path>' not specified/],
      [['--config', join(tmp.dir, 'missing')], /--config .*missing: no such bundle folder or device.json/],
      [['--config', tmp.dir, '--frame-rate', 'fast'], /--frame-rate must be a number from 0.1 to 100000, got "fast"/],
      [['--config', tmp.dir, '--fault', 'wobble:severe:20'], /fault kind "wobble" is not one of vib, rot, volt/],
      [['--config', tmp.dir, '--fault', 'vib:mild:0'], /fault duration "0" must be a positive number of seconds/],
      [['--config', tmp.dir, '--frames', 'camera'], /argument 'camera' is invalid. Allowed choices are simulator, stdin, greengrass-ipc, none/],
      [['--config', tmp.dir, '--public-key', join(tmp.dir, 'ed.pem'), '--connection', 'greengrass-ipc'], /--connection\/--frames greengrass-ipc: not started by a nucleus: AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID are not set/],
      [['--config', tmp.dir, '--public-key', join(tmp.dir, 'nokey.pem')], /no trusted public key at .*nokey.pem/],
      [['--config', tmp.dir, '--public-key', join(tmp.dir, 'key.pem')], /key.pem is not a usable Ed25519 public key/],
      [['--config', tmp.dir, '--public-key', join(tmp.dir, 'rsa.pem')], /rsa.pem is not a usable Ed25519 public key \(an rsa key, not Ed25519\)/],
      [['--config', tmp.dir, '--public-key', join(tmp.dir, 'ed.pem')], /device.json: mqtt.host must be a string, got undefined/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  } finally {
    await tmp.remove();
  }
});
