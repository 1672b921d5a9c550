import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PoisonDetector } from '../../../src/bridge/poison';

describe('poison record detection', () => {
  it('sends one at a time after a loss with several in flight, until past them', () => {
    const p = new PoisonDetector(3);
    assert.equal(p.window(100), 100);
    assert.equal(p.lost([5, 6, 7]), undefined);
    assert.equal(p.window(100), 1);
    p.delivered(5);
    p.delivered(6);
    assert.equal(p.window(100), 1, 'still before the last suspect');
    p.delivered(7);
    assert.equal(p.window(100), 100);
  });

  const cases: Array<{ name: string; losses: number[][]; delivered?: number[]; poison: Array<number | undefined> }> = [
    { name: 'three losses alone with the same record', losses: [[9], [9], [9]], poison: [undefined, undefined, 9] },
    { name: 'a loss with several in flight is no strike', losses: [[9, 10], [9], [9]], poison: [undefined, undefined, undefined] },
    { name: 'strikes against another record start over', losses: [[9], [10], [9], [9]], poison: [undefined, undefined, undefined, undefined] },
    { name: 'a delivery clears the strikes', losses: [[9], [9]], delivered: [9], poison: [undefined, undefined] },
    { name: 'no loss in flight: nothing', losses: [[], [], []], poison: [undefined, undefined, undefined] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = new PoisonDetector(3);
      assert.deepEqual(
        c.losses.map((l) => p.lost(l)),
        c.poison,
      );
      for (const seq of c.delivered ?? []) p.delivered(seq);
      if (c.delivered) assert.equal(p.lost([9]), undefined, 'counting starts over after a delivery');
    });
  }

  it('normal sending resumes once the poison record is moved aside', () => {
    const p = new PoisonDetector(2);
    p.lost([4]);
    assert.equal(p.lost([4]), 4);
    p.removed(4);
    assert.equal(p.window(50), 50);
  });
});
