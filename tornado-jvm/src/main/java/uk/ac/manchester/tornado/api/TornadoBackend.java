package uk.ac.manchester.tornado.api;

import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;

/** One backend and its devices. */
public interface TornadoBackend {

    TornadoDevice getDefaultDevice();

    int getNumDevices();

    TornadoDevice getDevice(int index);

    String getName();

    TornadoVMBackendType getBackendType();
}
