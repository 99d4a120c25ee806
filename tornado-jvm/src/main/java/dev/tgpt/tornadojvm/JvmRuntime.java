package dev.tgpt.tornadojvm;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.TornadoTargetDevice;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;
import uk.ac.manchester.tornado.runtime.common.TornadoXPUDevice;
import uk.ac.manchester.tornado.runtime.library.spi.TornadoNativeStreamSupport;

/**
 * tornado-jvm's runtime: one backend with one emulated device, or {@value #DEVICES} of them (as PoCL's POCL_DEVICES
 * makes several of one CPU), for tests of what picks a device per rank.
 *
 * <p>Like TornadoVM's OpenCL and PTX devices, an emulated device does not expose a native stream, so library
 * providers that need one (all of TornadoVM's) refuse it. With {@value #NATIVE_STREAMS}=1, or the system property
 * {@value #NATIVE_STREAMS_PROPERTY}=true, the devices looked up implement {@link TornadoNativeStreamSupport} as
 * TornadoVM's CUDA devices do, with fake handles: for tests of providers, never for a real library.
 */
public final class JvmRuntime implements TornadoRuntime, TornadoBackend {

    /** The environment variable giving the number of emulated devices (default 1); they all run on this JVM alike. */
    public static final String DEVICES = "TORNADO_JVM_DEVICES";
    /** The environment variable that gives the emulated devices (fake) native streams, when it is 1. */
    public static final String NATIVE_STREAMS = "TORNADO_JVM_NATIVE_STREAMS";
    /** The system property that does what {@link #NATIVE_STREAMS} does; read at each device lookup, so tests can set it. */
    public static final String NATIVE_STREAMS_PROPERTY = "tornado.jvm.nativeStreams";

    public static final JvmRuntime INSTANCE = new JvmRuntime();

    private final TornadoXPUDevice[] devices;
    private final TornadoXPUDevice[] streamDevices;

    private JvmRuntime() {
        String n = System.getenv(DEVICES);
        devices = new TornadoXPUDevice[n == null || n.isBlank() ? 1 : Math.max(1, Integer.parseInt(n.strip()))];
        streamDevices = new TornadoXPUDevice[devices.length];
        for (int d = 0; d < devices.length; d++) {
            devices[d] = new EmulatedDevice(d);
            streamDevices[d] = new NativeStreamDevice(d);
        }
    }

    /** The devices a lookup gives now: with native streams or without. */
    private TornadoXPUDevice[] current() {
        boolean streams = "1".equals(System.getenv(NATIVE_STREAMS)) || Boolean.getBoolean(NATIVE_STREAMS_PROPERTY);
        return streams ? streamDevices : devices;
    }

    public static boolean isEmulatedDevice(TornadoDevice device) {
        return device instanceof EmulatedDevice;
    }

    @Override
    public TornadoBackend getBackend(int index) {
        if (index != 0) {
            throw new IndexOutOfBoundsException("backend " + index + " of 1");
        }
        return this;
    }

    @Override
    public int getNumBackends() {
        return 1;
    }

    @Override
    public TornadoDevice getDefaultDevice() {
        return current()[0];
    }

    @Override
    public int getNumDevices() {
        return devices.length;
    }

    @Override
    public TornadoDevice getDevice(int index) {
        if (index < 0 || index >= devices.length) {
            throw new IndexOutOfBoundsException("device " + index + " of " + devices.length);
        }
        return current()[index];
    }

    @Override
    public String getName() {
        return "tornado-jvm";
    }

    @Override
    public TornadoVMBackendType getBackendType() {
        return TornadoVMBackendType.JAVA;
    }

    /** The emulated device: this JVM's heap and cores, with a GPU's limits on work-groups and local memory. */
    private static class EmulatedDevice implements TornadoXPUDevice {

        final int index;

        private final TornadoTargetDevice physical = new TornadoTargetDevice() {
            @Override
            public String getDeviceName() {
                return "TornadoVM API emulated on the JVM, for tests, not speed";
            }

            @Override
            public long getDeviceGlobalMemorySize() {
                return Runtime.getRuntime().maxMemory();
            }

            @Override
            public long getDeviceLocalMemorySize() {
                return WorkGroup.LOCAL_MEMORY_BYTES;
            }

            @Override
            public int getDeviceMaxComputeUnits() {
                return Runtime.getRuntime().availableProcessors();
            }

            @Override
            public long[] getDeviceMaxWorkItemSizes() {
                return new long[] { PlanExecutor.MAX_WORK_GROUP, PlanExecutor.MAX_WORK_GROUP, 64 };
            }

            @Override
            public int getDeviceMaxClockFrequency() {
                return 0;
            }
        };

        EmulatedDevice(int index) {
            this.index = index;
        }

        @Override
        public String getDeviceName() {
            return "tornado-jvm-0-" + index;
        }

        @Override
        public String getDescription() {
            return physical.getDeviceName();
        }

        @Override
        public String getPlatformName() {
            return "tornado-jvm";
        }

        @Override
        public TornadoTargetDevice getPhysicalDevice() {
            return physical;
        }

        @Override
        public TornadoDeviceType getDeviceType() {
            return TornadoDeviceType.CPU;
        }

        @Override
        public long getMaxAllocMemory() {
            return physical.getDeviceGlobalMemorySize();
        }

        @Override
        public long getMaxGlobalMemory() {
            return physical.getDeviceGlobalMemorySize();
        }

        @Override
        public long getDeviceLocalMemorySize() {
            return physical.getDeviceLocalMemorySize();
        }

        @Override
        public TornadoVMBackendType getTornadoVMBackend() {
            return TornadoVMBackendType.JAVA;
        }

        /** As TornadoVM's OpenCL device prints itself, in its errors among others. */
        @Override
        public String toString() {
            return " [" + getPlatformName() + "] -- " + getDeviceName();
        }
    }

    /**
     * An emulated device with the native stream and context a library binds to, as TornadoVM's CUDA device. The handles
     * are fake, for tests: stable and non-zero (a stream per device and plan, a context per device), and pointing at
     * nothing.
     */
    private static final class NativeStreamDevice extends EmulatedDevice implements TornadoNativeStreamSupport {

        private static final long STREAM_TAG = 0x5L << 60;
        private static final long CONTEXT_TAG = 0xCL << 60;

        NativeStreamDevice(int index) {
            super(index);
        }

        @Override
        public long getNativeStream(long executionPlanId) {
            return STREAM_TAG | (long) index << 40 | executionPlanId;
        }

        @Override
        public long getNativeContext(long executionPlanId) {
            return CONTEXT_TAG | index;
        }
    }
}
