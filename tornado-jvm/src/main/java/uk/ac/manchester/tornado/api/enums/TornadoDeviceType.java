package uk.ac.manchester.tornado.api.enums;

/** The kind of a device. */
public enum TornadoDeviceType {
    UNKNOWN,
    DEFAULT,
    CPU,
    GPU,
    FPGA,
    ACCELERATOR,
    CUSTOM,
    ALL
}
