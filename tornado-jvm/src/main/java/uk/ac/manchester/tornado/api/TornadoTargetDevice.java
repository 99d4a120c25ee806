package uk.ac.manchester.tornado.api;

/** The physical device's properties. */
public interface TornadoTargetDevice {

    String getDeviceName();

    long getDeviceGlobalMemorySize();

    long getDeviceLocalMemorySize();

    int getDeviceMaxComputeUnits();

    long[] getDeviceMaxWorkItemSizes();

    int getDeviceMaxClockFrequency();
}
