/** The inspector screen's data comes from src/inspect, which opens and decodes the sources. */
export { openInspector, histogramOf, type Histogram, type InspectorSource } from '../../inspect/inspector-source.ts';
