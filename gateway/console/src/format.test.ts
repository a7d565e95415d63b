/// <reference types="node" />
import { test } from "node:test";
import assert from "node:assert/strict";
import * as f from "./format";

const G = "\u202f";
const NB = "\u00a0";

test("money groups the integer part by three and keeps the cents exactly", () => {
  assert.equal(f.money("1234.50"), `1${G}234,50${NB}€`);
  assert.equal(f.money("0.05"), `0,05${NB}€`);
  assert.equal(f.money("999.00"), `999,00${NB}€`);
  assert.equal(f.money("69515609.13"), `69${G}515${G}609,13${NB}€`);
});

test("money never goes through floating point", () => {
  // 2^53 + 1 euros is not representable as a double.
  assert.equal(f.money("9007199254740993.99"), `9${G}007${G}199${G}254${G}740${G}993,99${NB}€`);
  assert.equal(f.money("0.10"), `0,10${NB}€`);
});

test("money reads one decimal, none, leading zeros and negatives", () => {
  assert.equal(f.money("12.5"), `12,50${NB}€`);
  assert.equal(f.money("12"), `12,00${NB}€`);
  assert.equal(f.money("0012.00"), `12,00${NB}€`);
  assert.equal(f.money("-1500.25"), `-1${G}500,25${NB}€`);
  assert.equal(f.money("-0.00"), `0,00${NB}€`);
});

test("money returns what is not a decimal string as it came", () => {
  assert.equal(f.money("n/a"), "n/a");
  assert.equal(f.money(null), "—");
});

test("money groups as Intl.NumberFormat fr-FR does", () => {
  const intl = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
  for (const s of ["1.00", "1234.56", "1234567.89", "100000.00"]) {
    assert.equal(f.money(s), intl.format(Number(s)));
  }
});

test("integer and percent follow fr-FR", () => {
  assert.equal(f.integer(1234), `1${G}234`);
  assert.equal(f.integer(0), "0");
  assert.equal(f.percent(0.123), `12,3${NB}%`);
  assert.equal(f.percent(0.09783997426718623), `9,8${NB}%`);
  assert.equal(f.percent(null), "—");
});

test("dates are shown in Paris time", () => {
  // 23:30 UTC on 31 December is already the new year in Paris.
  assert.equal(f.date("2026-12-31T23:30:00Z"), "1 janv. 2027");
  assert.equal(f.dateTime("2026-07-01T08:00:00Z"), "1 juil. 2026, 10:00");
  assert.equal(f.dateTime("2026-12-01T08:00:00Z"), "1 déc. 2026, 09:00");
  assert.equal(f.time(new Date("2026-12-02T10:00:05Z")), "11:00:05");
  assert.equal(f.parisYear(new Date("2026-12-31T23:30:00Z")), 2027);
});

test("a calendar date is shown as written", () => {
  assert.equal(f.date("2026-09-01"), "1 sept. 2026");
  assert.equal(f.date(null), "—");
});

test("week and month keys become labels", () => {
  assert.equal(f.week("2026-W23"), `sem.${NB}23`);
  assert.equal(f.week("2026-W05"), `sem.${NB}5`);
  assert.equal(f.week("autre"), "autre");
  assert.equal(f.month("2027-03"), "mars 2027");
});
