package dev.tgpt.engine.dist;

import uk.ac.manchester.tornado.api.common.Access;
import uk.ac.manchester.tornado.api.common.LibraryTaskDescriptor;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryContext;
import uk.ac.manchester.tornado.runtime.library.spi.LibraryInvocation;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoLibraryProvider;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoNativeStreamSupport;

/**
 * TornadoVM's library-task provider "tgpt/nccl" (found by TornadoVM's ServiceLoader through META-INF/services): runs
 * {@link NcclCollective}'s sums inside a task graph, given the device pointers of TornadoVM's buffers and the execution
 * plan's CUDA stream and context. Only TornadoVM's CUDA backend exposes those ({@link TornadoNativeStreamSupport}).
 */
public final class NcclProvider implements TornadoLibraryProvider {

    static final String LIBRARY = "tgpt/nccl";

    /** The execution plan's stream and context. */
    private record Context(long stream, long context) implements LibraryContext {
    }

    /** Whether library tasks of this provider can run on a TornadoVM device. */
    static boolean handles(TornadoDevice device) {
        return device instanceof TornadoXPUDevice && device instanceof TornadoNativeStreamSupport;
    }

    /** The library task's factory for op: the array and the index of its call ({@link NcclCollective#run}). */
    static uk.ac.manchester.tornado.api.common.TornadoFunctions.LibraryTask2<FloatArray, Long> factory(NcclCollective.Op op) {
        return (a, index) -> new LibraryTaskDescriptor().withLibrary(LIBRARY).withFunction(op.function).withParameters(new Object[] { a, index })
                .withAccess(new Access[] { Access.READ_WRITE, Access.READ_ONLY });
    }

    @Override
    public String libraryName() {
        return LIBRARY;
    }

    @Override
    public boolean canHandle(TornadoXPUDevice device) {
        return handles(device);
    }

    @Override
    public LibraryContext createContext(TornadoXPUDevice device, long executionPlanId) {
        TornadoNativeStreamSupport cuda = (TornadoNativeStreamSupport) device;
        return new Context(cuda.getNativeStream(executionPlanId), cuda.getNativeContext(executionPlanId));
    }

    @Override
    public void dispatch(String function, LibraryInvocation call) {
        Context c = (Context) call.getContext();
        NcclCollective.current().run((Long) call.getArg(1), call.getDevicePointer(0), c.stream(), c.context());
    }

    @Override
    public void destroyContext(LibraryContext context) {
        // the stream and context are TornadoVM's
    }
}
