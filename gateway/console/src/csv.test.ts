/// <reference types="node" />
import { test } from "node:test";
import assert from "node:assert/strict";
import { csvCell, toCsv } from "./csv";

test("a csv starts with a BOM and separates with semicolons", () => {
  assert.equal(toCsv(["uai", "montant"], [["0141687H", "1234.50"]]), "\ufeffuai;montant\r\n0141687H;1234.50\r\n");
});

test("a cell holding a separator or a quote is quoted", () => {
  assert.equal(csvCell("CFA; Caen"), '"CFA; Caen"');
  assert.equal(csvCell('dit "le CFA"'), '"dit ""le CFA"""');
});

test("a cell a spreadsheet would take for a formula is defused, a negative amount is not", () => {
  assert.equal(csvCell("=HYPERLINK(1)"), `"'=HYPERLINK(1)"`);
  assert.equal(csvCell("-12.50"), "-12.50");
  assert.equal(csvCell(null), "");
});
