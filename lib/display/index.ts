/**
 * What notebooks call to display results: tables, plots, Markdown. The notebook runner (nbconvert,
 * Chromium, parameters, table of contents) is lib/report.
 */
export { showPlot, renderPlot, figureHtml, describeFigure, ensurePlotlyLoaded, PLOT_DIV_CLASS } from './plot';
export type { Figure, PlotOptions } from './plot';
export { showTable, renderTable, dataFrameToRows } from './table';
export type { TableRow, TableOptions, DataFrameLike } from './table';
export { showMarkdown, emitDisplay, setDisplaySink, insideKernel } from './display';
export type { MimeBundle, DisplaySink } from './display';
export { escapeHtml, formatNumber, formatValue } from './html';
