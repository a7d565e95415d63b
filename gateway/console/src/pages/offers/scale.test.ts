/// <reference types="node" />
import { test } from "node:test";
import assert from "node:assert/strict";
import { CLASS_COLOURS, ZERO_COLOUR, legend, quantileScale } from "./scale";

test("zero has its own neutral colour", () => {
  const s = quantileScale([0, 0, 5, 10]);
  assert.equal(s.colour(0), ZERO_COLOUR);
  assert.notEqual(s.colour(5), ZERO_COLOUR);
});

test("the largest value takes the darkest class", () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const s = quantileScale(values);
  assert.equal(s.breaks.length, 6);
  assert.equal(s.colour(99), CLASS_COLOURS[5]);
  assert.equal(s.colour(1), CLASS_COLOURS[0]);
});

test("few distinct values give fewer classes, none empty", () => {
  const s = quantileScale([1, 1, 1, 2]);
  assert.deepEqual(s.breaks, [1, 2]);
  assert.equal(s.colour(2), CLASS_COLOURS[5]);
  assert.deepEqual(
    legend(s, String).map((l) => l.label),
    ["0", "1", "2"],
  );
});

test("the legend gives each class its range", () => {
  const s = quantileScale([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(
    legend(s, String).map((l) => l.label),
    ["0", "1 à 2", "3 à 4", "5 à 6", "7 à 8", "9 à 10", "11 à 12"],
  );
});
