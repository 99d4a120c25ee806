package uk.ac.manchester.tornado.api;

import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** The backends (OpenCL, PTX, ...) and their devices. */
public interface TornadoRuntime {

    TornadoBackend getBackend(int index);

    int getNumBackends();

    TornadoDevice getDefaultDevice();
}
