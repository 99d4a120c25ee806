package uk.ac.manchester.tornado.api.enums;

/** Where profiling results go. */
public enum ProfilerMode {
    CONSOLE,
    SILENT
}
