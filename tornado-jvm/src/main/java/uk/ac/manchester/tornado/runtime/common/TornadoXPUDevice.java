package uk.ac.manchester.tornado.runtime.common;

import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * TornadoVM's runtime view of a device, the type library providers receive. tornado-jvm's emulated devices implement
 * it; TornadoVM's methods for compiling and launching kernels are left out, as nothing here calls them.
 */
public interface TornadoXPUDevice extends TornadoDevice {
}
