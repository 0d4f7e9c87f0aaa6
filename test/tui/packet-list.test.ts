import { describe, expect, it } from 'vitest';
import { PacketList } from '../../src/tui/packet-list.js';
import { joinedNumbers } from '../../src/tui/packet-lines.js';

describe('PacketList', () => {
  it('keeps numbers in order and counts bad checksums', () => {
    const list = new PacketList();
    for (let n = 1; n <= 100; n++) list.push(n * 2, n % 10 === 0);
    expect(list.length).toBe(100);
    expect(Array.from(list.view().subarray(0, 3))).toEqual([2, 4, 6]);
    expect(list.view()[99]).toBe(200);
    expect(list.badChecksums).toBe(10);
  });

  it('drops the numbers below a ring buffer\'s oldest, yet counts them in its total', () => {
    const list = new PacketList();
    for (let n = 1; n <= 10; n++) list.push(n, false);
    list.dropBelow(8);
    expect(Array.from(list.view())).toEqual([8, 9, 10]);
    expect(list.total).toBe(10);
  });

  it('leaves a view taken earlier as it was while the list grows and compacts', () => {
    const list = new PacketList();
    for (let n = 1; n <= 16; n++) list.push(n, false);
    const before = list.view();
    list.dropBelow(12);
    for (let n = 17; n <= 100; n++) list.push(n, false);
    expect(Array.from(before)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(list.view()[0]).toBe(12);
    expect(list.length).toBe(89);
  });
});

describe('joinedNumbers', () => {
  it('joins ascending lists in one ascending list, a number in two of them once', () => {
    const lists = [[1, 3, 5, 9], [2, 3, 6], [], [10]].map((list) => Uint32Array.from(list));
    expect(Array.from(joinedNumbers(lists))).toEqual([1, 2, 3, 5, 6, 9, 10]);
    expect(Array.from(joinedNumbers([Uint32Array.from([4, 7])]))).toEqual([4, 7]);
    expect(joinedNumbers([])).toHaveLength(0);
  });
});
