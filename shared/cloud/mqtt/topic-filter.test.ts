import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicFilterProblem, topicMatches } from './topic-filter';

test('matches + and # as MQTT 3.1.1 says', () => {
  assert.ok(topicMatches('a/b', 'a/b'));
  assert.ok(!topicMatches('a/b', 'a/c'));
  assert.ok(topicMatches('a/+/c', 'a/b/c'));
  assert.ok(!topicMatches('a/+/c', 'a/b/d/c'));
  assert.ok(topicMatches('a/#', 'a'));
  assert.ok(topicMatches('a/#', 'a/b/c'));
  assert.ok(!topicMatches('a/#', 'b/a'));
  assert.ok(topicMatches('+/+', '/x'));
  assert.ok(!topicMatches('a/b', 'a/b/c'));
  assert.ok(topicMatches('$aws/things/+/shadow/#', '$aws/things/t1/shadow/name/n/update'));
});

test('wildcards at the start do not match $ topics', () => {
  assert.ok(!topicMatches('#', '$aws/things/t/shadow/get'));
  assert.ok(!topicMatches('+/things/#', '$aws/things/t'));
  assert.ok(topicMatches('$aws/#', '$aws/things/t'));
});

test('names what is wrong with an invalid filter', () => {
  assert.equal(topicFilterProblem('a/+/#'), undefined);
  assert.match(topicFilterProblem('')!, /empty/);
  assert.match(topicFilterProblem('a/#/b')!, /"#" must be a whole level at the end/);
  assert.match(topicFilterProblem('a/b#')!, /"#" must be a whole level/);
  assert.match(topicFilterProblem('a/b+/c')!, /"\+" must be a whole level/);
});
