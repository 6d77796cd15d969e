import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../lib/cli/args';
import { withTrainOverrides } from '../lib/cli/experiments';
import { getProfile } from '../lib/pipeline/profiles';

test('parseArgs: options, flags, positionals and unknown options', () => {
  const r = parseArgs(['run', '--profile', 'tiny', '--json', '--lr=0.01'], { flags: ['json'], options: ['profile', 'lr'] });
  assert.deepEqual(r.positional, ['run']);
  assert.deepEqual(r.options, { profile: 'tiny', lr: '0.01' });
  assert.ok(r.flags.has('json'));
  assert.throws(() => parseArgs(['--nope'], { options: ['profile'] }), /unknown option --nope \(known: --profile\)/);
  assert.throws(() => parseArgs(['--profile'], { options: ['profile'] }), /--profile needs a value/);
});

test('training overrides change only the options given, and reject bad values by name', () => {
  const small = getProfile('small');
  const same = withTrainOverrides(small, {});
  assert.deepEqual(same, small);
  const o = withTrainOverrides(small, { epochs: '7', 'examples-per-epoch': '50000', lr: '0.002', 'search-fraction': '0', 'history-length': '20', 'batch-size': '128' });
  assert.equal(o.generate.train.epochs, 7);
  assert.equal(o.generate.train.examplesPerEpoch, 50000);
  assert.equal(o.generate.train.lr, 0.002);
  assert.equal(o.generate.train.searchFraction, 0);
  assert.equal(o.generate.train.historyLength, 20);
  assert.equal(o.generate.train.batchSize, 128);
  assert.deepEqual(o.generate.train.model, small.generate.train.model);
  assert.deepEqual(o.generate.eval, small.generate.eval);
  // The profile object itself is left alone.
  assert.equal(getProfile('small').generate.train.epochs, small.generate.train.epochs);
  assert.notEqual(small.generate.train.epochs, 7);
  assert.throws(() => withTrainOverrides(small, { epochs: '0' }), (e: unknown) => e instanceof UsageError && /--epochs must be an integer >= 1, got "0"/.test(e.message));
  assert.throws(() => withTrainOverrides(small, { lr: '0' }), /--lr must be a number in \(0, 1\], got "0"/);
  assert.throws(() => withTrainOverrides(small, { 'search-fraction': '1.5' }), /--search-fraction must be a number in \[0, 1\], got "1.5"/);
  assert.throws(() => withTrainOverrides(small, { 'search-fraction': '' }), /--search-fraction must be a number/);
});

test('--patience sets the plateau rule, 0 turns it off, and a bad value is named', () => {
  const small = getProfile('small');
  assert.equal(withTrainOverrides(small, { patience: '6' }).generate.train.patience, 6);
  const off = withTrainOverrides(small, { patience: '0' });
  assert.equal(off.generate.train.patience, undefined);
  assert.equal(off.generate.train.epochs, small.generate.train.epochs);
  assert.notEqual(small.generate.train.patience, undefined);
  assert.throws(() => withTrainOverrides(small, { patience: '-1' }), (e: unknown) => e instanceof UsageError && /--patience must be an integer >= 0, got "-1"/.test(e.message));
  assert.throws(() => withTrainOverrides(small, { patience: '1.5' }), /--patience must be an integer >= 0/);
  // A blank value is an error, not 0 (which would turn the rule off).
  assert.throws(() => withTrainOverrides(small, { patience: ' ' }), /--patience must be an integer >= 0, got " "/);
  assert.throws(() => withTrainOverrides(small, { epochs: '' }), /--epochs must be an integer >= 1/);
});
