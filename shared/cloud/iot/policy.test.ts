import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectionVariables,
  evaluate,
  iotArn,
  isAllowed,
  parsePolicyDocument,
  PolicyDocumentError,
  type PolicyDocument,
} from './policy';

const R = 'us-east-1';
const A = '123456789012';
const arn = (type: 'client' | 'topic' | 'topicfilter', name: string) => iotArn(R, A, type, name);
const doc = (statement: unknown): PolicyDocument =>
  parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statement }));

test('parses a statement list and a single statement object', () => {
  const list = doc([{ Effect: 'Allow', Action: ['iot:Connect'], Resource: ['*'] }]);
  assert.equal(list.statements.length, 1);
  assert.deepEqual(list.statements[0].actions, ['iot:Connect']);
  const single = doc({ Sid: 's1', Effect: 'Deny', Action: 'iot:Publish', Resource: arn('topic', 'x') });
  assert.equal(single.statements[0].effect, 'Deny');
  assert.equal(single.statements[0].sid, 's1');
  assert.deepEqual(single.statements[0].resources, [arn('topic', 'x')]);
});

test('rejects malformed documents with a message naming the problem', () => {
  const bad: [string, RegExp][] = [
    ['not json', /not valid JSON/],
    ['', /empty/],
    ['[]', /must be a JSON object/],
    [JSON.stringify({ Statement: [] }), /needs "Version"/],
    [JSON.stringify({ Version: '2008-10-17', Statement: [] }), /Version must be "2012-10-17"/],
    [JSON.stringify({ Version: '2012-10-17' }), /needs a "Statement"/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [] }), /Statement must not be empty/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [], Extra: 1 }), /unknown top-level key "Extra"/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'allow', Action: 'iot:*', Resource: '*' }] }), /Statement\[0\]\.Effect must be "Allow" or "Deny", got "allow"/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] }), /Statement\[0\] needs exactly one of Action or NotAction/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', NotAction: 'iot:Publish', Resource: '*' }] }), /exactly one of Action or NotAction/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*' }] }), /exactly one of Resource or NotResource/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'publish', Resource: '*' }] }), /Action\[0\] "publish" is not an action/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] }), /Action must not be empty/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: 'topic/x' }] }), /Resource\[0\] "topic\/x" is not a resource ARN/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: 7 }] }), /Resource must be a non-empty string/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: `${arn('topic', '${iot:ClientId')}` }] }), /unterminated policy variable/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*', Principal: '*' }] }), /unknown key "Principal"/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*', Condition: { StringFoo: { a: 'b' } } }] }), /unknown condition operator "StringFoo"/],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*', Condition: { Bool: { a: {} } } }] }), /must be a string, number or boolean/],
    [JSON.stringify({ Version: '2012-10-17', Statement: ['x'] }), /Statement\[0\] must be an object/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parsePolicyDocument(text), (err: unknown) => {
      assert.ok(err instanceof PolicyDocumentError, `expected PolicyDocumentError for ${text}`);
      assert.match((err as Error).message, message, `for ${text}`);
      return true;
    });
  }
});

test('rejects a document longer than 2048 characters excluding whitespace, but not because of whitespace', () => {
  const resources = Array.from({ length: 60 }, (_, i) => arn('topic', `devices/turbine-${i}/telemetry`));
  assert.throws(() => doc([{ Effect: 'Allow', Action: 'iot:Publish', Resource: resources }]), /maximum is 2048/);
  const padded = JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'iot:*', Resource: '*' } }).replace(/,/g, `,${' '.repeat(1000)}`);
  assert.ok(padded.length > 2048);
  assert.equal(parsePolicyDocument(padded).statements.length, 1);
});

test('default deny, any Allow grants, an explicit Deny wins across policies', () => {
  const allowAll = doc({ Effect: 'Allow', Action: 'iot:*', Resource: '*' });
  const denyX = doc({ Effect: 'Deny', Action: 'iot:Publish', Resource: arn('topic', 'x') });
  assert.equal(evaluate([], 'iot:Publish', arn('topic', 'x'), {}), 'ImplicitDeny');
  assert.equal(evaluate([allowAll], 'iot:Publish', arn('topic', 'x'), {}), 'Allow');
  assert.equal(evaluate([allowAll, denyX], 'iot:Publish', arn('topic', 'x'), {}), 'ExplicitDeny');
  assert.equal(evaluate([denyX, allowAll], 'iot:Publish', arn('topic', 'y'), {}), 'Allow');
  assert.equal(evaluate([denyX, allowAll], 'iot:Subscribe', arn('topic', 'x'), {}), 'Allow');
});

test('action matching: exact, iot:* and case-insensitive names; NotAction inverts', () => {
  const p = doc({ Effect: 'Allow', Action: 'iot:Publish', Resource: '*' });
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'a'), {}));
  assert.ok(isAllowed([p], 'iot:publish', arn('topic', 'a'), {}));
  assert.ok(!isAllowed([p], 'iot:Receive', arn('topic', 'a'), {}));
  const not = doc({ Effect: 'Allow', NotAction: 'iot:Publish', Resource: '*' });
  assert.ok(!isAllowed([not], 'iot:Publish', arn('topic', 'a'), {}));
  assert.ok(isAllowed([not], 'iot:Receive', arn('topic', 'a'), {}));
  const prefix = doc({ Effect: 'Allow', Action: 'iot:*Shadow', Resource: '*' });
  assert.ok(isAllowed([prefix], 'iot:GetThingShadow', '*', {}));
  assert.ok(!isAllowed([prefix], 'iot:Publish', '*', {}));
});

test('resource wildcards: * spans slashes, ? is one character, + and # are literal', () => {
  const p = doc([
    { Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', 'a/*') },
    { Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', 'b/?') },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', 'c/+/d') },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', 'e/*') },
  ]);
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'a/x/y/z'), {}));
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', 'ab'), {}));
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'b/1'), {}));
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', 'b/12'), {}));
  // `+` in a policy is the literal character: only the filter "c/+/d" is allowed, not "c/x/d".
  assert.ok(isAllowed([p], 'iot:Subscribe', arn('topicfilter', 'c/+/d'), {}));
  assert.ok(!isAllowed([p], 'iot:Subscribe', arn('topicfilter', 'c/x/d'), {}));
  // `*` in topicfilter patterns covers MQTT wildcard filters.
  assert.ok(isAllowed([p], 'iot:Subscribe', arn('topicfilter', 'e/#'), {}));
  assert.ok(isAllowed([p], 'iot:Subscribe', arn('topicfilter', 'e/+'), {}));
  // Regex metacharacters in ARNs are not special.
  const dots = doc({ Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', 'a.b') });
  assert.ok(!isAllowed([dots], 'iot:Publish', arn('topic', 'aXb'), {}));
  // Region and account are part of the match.
  assert.ok(!isAllowed([p], 'iot:Publish', iotArn('eu-west-1', A, 'topic', 'a/x'), {}));
});

test('literal escapes $(*), $(?) and $($)', () => {
  const p = doc({ Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', 'a/$(*)/$(?)/$($)') });
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'a/*/?/$'), {}));
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', 'a/x/y/$'), {}));
});

test('NotResource applies to every resource but the listed ones', () => {
  const p = doc([
    { Effect: 'Allow', Action: 'iot:Publish', Resource: '*' },
    { Effect: 'Deny', Action: 'iot:Publish', NotResource: arn('topic', 'ok/*') },
  ]);
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'ok/1'), {}));
  assert.equal(evaluate([p], 'iot:Publish', arn('topic', 'other'), {}), 'ExplicitDeny');
});

test('thing policy variables restrict a device to its own topics', () => {
  const p = doc([
    { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '${iot:Connection.Thing.ThingName}') },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic', '$aws/things/${iot:Connection.Thing.ThingName}/*') },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', '$aws/things/${iot:Connection.Thing.ThingName}/*') },
  ]);
  const vars = connectionVariables({ clientId: 'turbine-1', thing: { thingName: 'turbine-1', attributes: {} }, isAttached: true });
  assert.ok(isAllowed([p], 'iot:Connect', arn('client', 'turbine-1'), vars));
  assert.ok(!isAllowed([p], 'iot:Connect', arn('client', 'turbine-2'), vars));
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', '$aws/things/turbine-1/shadow/update'), vars));
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', '$aws/things/turbine-2/shadow/update'), vars));
  assert.ok(isAllowed([p], 'iot:Subscribe', arn('topicfilter', '$aws/things/turbine-1/jobs/+/get/+'), vars));
  assert.ok(!isAllowed([p], 'iot:Subscribe', arn('topicfilter', '$aws/things/turbine-2/#'), vars));
  // No thing resolved: the variable is unresolved and the Allow statement matches nothing.
  const none = connectionVariables({ clientId: 'turbine-1' });
  assert.ok(!isAllowed([p], 'iot:Connect', arn('client', 'turbine-1'), none));
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', '$aws/things/turbine-1/shadow/update'), none));
});

test('a substituted variable value is literal, not a wildcard', () => {
  const p = doc({ Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', 'dev/${iot:ClientId}') });
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', 'dev/anything'), connectionVariables({ clientId: '*' })));
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'dev/*'), connectionVariables({ clientId: '*' })));
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'dev/c1'), connectionVariables({ clientId: 'c1' })));
});

test('a value holding control characters stays literal: U+0000/U+0001 cannot end the literal and open a wildcard', () => {
  const p = doc({ Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn('topic', 'turbines/${iot:ClientId}/*') });
  for (const clientId of ['\u0001*', 'x\u0001*\u0000', '\u0000\u0001*\u0001', '\u0001?']) {
    const vars = connectionVariables({ clientId });
    assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', 'turbines/turbine-b/telemetry'), vars), JSON.stringify(clientId));
    assert.ok(!isAllowed([p], 'iot:Receive', arn('topic', 'turbines/t/x'), vars), JSON.stringify(clientId));
    assert.ok(isAllowed([p], 'iot:Publish', arn('topic', `turbines/${clientId}/telemetry`), vars), JSON.stringify(clientId));
  }
  // Conditions too: StringLike with a variable, and StringEquals compares the exact value.
  const like = doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringLike: { 'iot:Connection.Thing.ThingName': '${iot:ClientId}' } } });
  assert.ok(!isAllowed([like], 'iot:Connect', '*', { 'iot:ClientId': '\u0001*', 'iot:Connection.Thing.ThingName': 'turbine-b' }));
  const equals = doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringEquals: { 'iot:Connection.Thing.ThingName': '${iot:ClientId}' } } });
  assert.ok(!isAllowed([equals], 'iot:Connect', '*', { 'iot:ClientId': '\u0000t\u0001', 'iot:Connection.Thing.ThingName': 't' }));
});

test('thing type, attributes and certificate subject variables', () => {
  const p = doc([
    { Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', 'site/${iot:Connection.Thing.Attributes[site]}/${iot:Connection.Thing.ThingTypeName}') },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter', 'cn/${iot:Certificate.Subject.CommonName}') },
  ]);
  const vars = connectionVariables({
    clientId: 't1',
    thing: { thingName: 't1', thingTypeName: 'turbine', attributes: { site: 'north' } },
    isAttached: true,
    certificateSubject: { CommonName: 'AWS IoT Certificate', Organization: 'a*b' },
  });
  assert.ok(isAllowed([p], 'iot:Publish', arn('topic', 'site/north/turbine'), vars));
  assert.ok(!isAllowed([p], 'iot:Publish', arn('topic', 'site/south/turbine'), vars));
  assert.ok(isAllowed([p], 'iot:Subscribe', arn('topicfilter', 'cn/AWS IoT Certificate'), vars));
  assert.equal(vars['iot:Certificate.Subject.Organization'], undefined, 'values with * are left unreplaced');
});

test('conditions: Bool on IsAttached, StringLike, IfExists and Null', () => {
  const attached = doc({
    Effect: 'Allow',
    Action: 'iot:Connect',
    Resource: '*',
    Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
  });
  assert.ok(isAllowed([attached], 'iot:Connect', arn('client', 'a'), connectionVariables({ clientId: 'a', isAttached: true })));
  assert.ok(!isAllowed([attached], 'iot:Connect', arn('client', 'a'), connectionVariables({ clientId: 'a', isAttached: false })));
  const like = doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringLike: { 'iot:ClientId': 'turbine-*' } } });
  assert.ok(isAllowed([like], 'iot:Connect', '*', { 'iot:ClientId': 'turbine-7' }));
  assert.ok(!isAllowed([like], 'iot:Connect', '*', { 'iot:ClientId': 'pump-7' }));
  const ifExists = doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringEqualsIfExists: { 'aws:SourceIp': '10.0.0.1' } } });
  assert.ok(isAllowed([ifExists], 'iot:Connect', '*', {}));
  assert.ok(!isAllowed([ifExists], 'iot:Connect', '*', { 'aws:SourceIp': '10.0.0.2' }));
  const missing = doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringEquals: { 'aws:SourceIp': '10.0.0.1' } } });
  assert.ok(!isAllowed([missing], 'iot:Connect', '*', {}));
  const nul = doc({ Effect: 'Deny', Action: 'iot:Connect', Resource: '*', Condition: { Null: { 'iot:Connection.Thing.ThingName': 'true' } } });
  assert.equal(evaluate([nul], 'iot:Connect', '*', {}), 'ExplicitDeny');
  assert.equal(evaluate([nul], 'iot:Connect', '*', { 'iot:Connection.Thing.ThingName': 't' }), 'ImplicitDeny');
  const variableValue = doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringEquals: { 'iot:ClientId': '${iot:Connection.Thing.ThingName}' } } });
  assert.ok(isAllowed([variableValue], 'iot:Connect', '*', { 'iot:ClientId': 't', 'iot:Connection.Thing.ThingName': 't' }));
  assert.ok(!isAllowed([variableValue], 'iot:Connect', '*', { 'iot:ClientId': 'u', 'iot:Connection.Thing.ThingName': 't' }));
});
