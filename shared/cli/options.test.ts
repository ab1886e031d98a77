import assert from 'node:assert/strict';
import { test } from 'node:test';
import { integerOption, numberOption } from './options';

test('numberOption: finite numbers passing the check; anything else names the option, the rule and the value', () => {
  const margin = numberOption('margin', 'a positive number', (n) => n > 0);
  assert.equal(margin('1.5'), 1.5);
  for (const bad of ['0', '-1', '', ' ', 'abc', 'Infinity', 'NaN']) assert.throws(() => margin(bad), new RegExp(`^InvalidArgumentError: margin must be a positive number, got "${bad}"$`));
  assert.equal(numberOption('x', 'a number')('-2e3'), -2000);
});

test('integerOption: integers of at least min', () => {
  const epochs = integerOption('epochs', 1);
  assert.equal(epochs('15'), 15);
  for (const bad of ['0', '2.5', 'many']) assert.throws(() => epochs(bad), new RegExp(`epochs must be an integer >= 1, got "${bad}"`));
});
