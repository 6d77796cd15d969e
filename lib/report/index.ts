/**
 * What notebooks call to display results. The notebook runner (`runNotebooks`) lives in
 * `./notebooks` and is imported from there, so that the CLI does not load tslab.
 */
export { showPlot, renderPlot, figureHtml, describeFigure, ensurePlotlyLoaded, PLOT_DIV_CLASS } from './plot';
export type { Figure, PlotOptions } from './plot';
export { showTable, renderTable, dataFrameToRows } from './table';
export type { TableRow, TableOptions, DataFrameLike } from './table';
export { showMarkdown, emitDisplay, setDisplaySink, insideKernel } from './display';
export type { MimeBundle, DisplaySink } from './display';
export { escapeHtml, formatNumber, formatValue } from './html';
