package uk.ac.manchester.tornado.runtime.library.spi;

/**
 * A provider's native state (e.g. a cuBLAS handle and the stream it is bound to): one per (library, device,
 * execution plan), created at the first library task that needs it and destroyed when the plan is freed or closed.
 */
public interface LibraryContext {
}
