package dev.tgpt.tornadojvm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import uk.ac.manchester.tornado.api.common.Access;
import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryContext;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryInvocation;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoLibraryProvider;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoNativeStreamSupport;

/**
 * Library bindings for the tests, registered in META-INF/services: factories that build descriptors, and providers
 * that record what the runtime hands them.
 */
public final class TestLibraries {

    static final String SCALE = "test/scale";
    static final String REFUSING = "test/refusing";
    static final String NEEDS_STREAMS = "test/needs-streams";

    /** What the providers were asked to do, in order: "create", "prepare", "dispatch", "destroy". */
    static final List<String> EVENTS = new CopyOnWriteArrayList<>();
    static final List<Context> CREATED = new CopyOnWriteArrayList<>();
    static final List<LibraryContext> DESTROYED = new CopyOnWriteArrayList<>();
    static final List<LibraryInvocation> INVOCATIONS = new CopyOnWriteArrayList<>();
    static final List<Access[]> PREPARED_ACCESS = new CopyOnWriteArrayList<>();

    private TestLibraries() {
    }

    static void reset() {
        EVENTS.clear();
        CREATED.clear();
        DESTROYED.clear();
        INVOCATIONS.clear();
        PREPARED_ACCESS.clear();
    }

    /** x[offset, offset + count) *= factor, in the library. */
    static LibraryTaskDescriptor scale(FloatArray x, int offset, int count, float factor) {
        return new LibraryTaskDescriptor().withLibrary(SCALE).withFunction("scale").withParameters(new Object[] { x, offset, count, factor })
                .withAccess(new Access[] { Access.READ_WRITE, Access.READ_ONLY, Access.READ_ONLY, Access.READ_ONLY });
    }

    static LibraryTaskDescriptor refused(FloatArray x) {
        return new LibraryTaskDescriptor().withLibrary(REFUSING).withFunction("noop").withParameters(new Object[] { x })
                .withAccess(new Access[] { Access.READ_ONLY });
    }

    static LibraryTaskDescriptor missing(FloatArray x) {
        return new LibraryTaskDescriptor().withLibrary("test/missing").withFunction("noop").withParameters(new Object[] { x })
                .withAccess(new Access[] { Access.READ_ONLY });
    }

    static LibraryTaskDescriptor onStream(FloatArray x) {
        return new LibraryTaskDescriptor().withLibrary(NEEDS_STREAMS).withFunction("noop").withParameters(new Object[] { x })
                .withAccess(new Access[] { Access.WRITE_ONLY });
    }

    /** A context with what it was created for, and the device's native handles when it has them. */
    record Context(String library, TornadoXPUDevice device, long planId, long stream, long nativeContext) implements LibraryContext {
    }

    private abstract static class Recording implements TornadoLibraryProvider {

        @Override
        public LibraryContext createContext(TornadoXPUDevice device, long executionPlanId) {
            EVENTS.add("create");
            Context c = device instanceof TornadoNativeStreamSupport s
                    ? new Context(libraryName(), device, executionPlanId, s.getNativeStream(executionPlanId), s.getNativeContext(executionPlanId))
                    : new Context(libraryName(), device, executionPlanId, 0, 0);
            CREATED.add(c);
            return c;
        }

        @Override
        public void prepare(LibraryTaskDescriptor descriptor, LibraryContext context) {
            EVENTS.add("prepare");
            PREPARED_ACCESS.add(descriptor.getAccess());
        }

        @Override
        public void dispatch(String functionName, LibraryInvocation invocation) {
            EVENTS.add("dispatch");
            INVOCATIONS.add(invocation);
        }

        @Override
        public void destroyContext(LibraryContext context) {
            EVENTS.add("destroy");
            DESTROYED.add(context);
        }
    }

    /** Scales a region of a FloatArray through its device pointer, as a native library would. */
    public static final class Scale extends Recording {

        @Override
        public String libraryName() {
            return SCALE;
        }

        @Override
        public boolean canHandle(TornadoXPUDevice device) {
            return true;
        }

        @Override
        public void dispatch(String functionName, LibraryInvocation invocation) {
            super.dispatch(functionName, invocation);
            int offset = (int) invocation.getArg(1);
            int count = (int) invocation.getArg(2);
            float factor = (float) invocation.getArg(3);
            MemorySegment x = MemorySegment.ofAddress(invocation.getDevicePointer(0)).reinterpret((long) (offset + count) * Float.BYTES);
            for (int i = offset; i < offset + count; i++) {
                x.setAtIndex(JAVA_FLOAT, i, x.getAtIndex(JAVA_FLOAT, i) * factor);
            }
        }
    }

    /** A library for some other device: it never handles this one. */
    public static final class Refusing extends Recording {

        @Override
        public String libraryName() {
            return REFUSING;
        }

        @Override
        public boolean canHandle(TornadoXPUDevice device) {
            return false;
        }
    }

    /** As TornadoVM's CUDA library providers: only for a device with a native stream. */
    public static final class NeedsStreams extends Recording {

        @Override
        public String libraryName() {
            return NEEDS_STREAMS;
        }

        @Override
        public boolean canHandle(TornadoXPUDevice device) {
            return device instanceof TornadoNativeStreamSupport;
        }
    }
}
