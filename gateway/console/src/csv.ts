// CSV files made in the browser, as French spreadsheets open them: semicolons,
// UTF-8 with a BOM, amounts with a decimal point as the API gives them.

/**
 * Quotes a cell when it must, and defuses one a spreadsheet would read as a
 * formula (the same rule as the gateway's export: a leading quote).
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  let s = value == null ? "" : String(value);
  const formula = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s);
  if (formula) s = `'${s}`;
  return formula || /[;"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(head: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  return "\ufeff" + [head, ...rows].map((r) => r.map(csvCell).join(";")).join("\r\n") + "\r\n";
}

/** Hands `text` to the browser as a file download. */
export function downloadText(filename: string, text: string, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
