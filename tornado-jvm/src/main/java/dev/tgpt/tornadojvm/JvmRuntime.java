package dev.tgpt.tornadojvm;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.TornadoTargetDevice;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;

/**
 * tornado-jvm's runtime: one backend with one emulated device, or {@value #DEVICES} of them (as PoCL's POCL_DEVICES
 * makes several of one CPU), for tests of what picks a device per rank.
 */
public final class JvmRuntime implements TornadoRuntime, TornadoBackend {

    /** The environment variable giving the number of emulated devices (default 1); they all run on this JVM alike. */
    public static final String DEVICES = "TORNADO_JVM_DEVICES";

    public static final JvmRuntime INSTANCE = new JvmRuntime();

    private final TornadoDevice[] devices;

    private JvmRuntime() {
        String n = System.getenv(DEVICES);
        devices = new TornadoDevice[n == null || n.isBlank() ? 1 : Math.max(1, Integer.parseInt(n.strip()))];
        for (int d = 0; d < devices.length; d++) {
            devices[d] = new EmulatedDevice(d);
        }
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
        return devices[0];
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
        return devices[index];
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
    private static final class EmulatedDevice implements TornadoDevice {

        private final int index;

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
    }
}
