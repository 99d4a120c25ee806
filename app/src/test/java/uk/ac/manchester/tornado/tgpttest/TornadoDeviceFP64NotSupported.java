package uk.ac.manchester.tornado.tgpttest;

/** A stand-in for TornadoVM's exception of this name. */
public class TornadoDeviceFP64NotSupported extends RuntimeException {

    public TornadoDeviceFP64NotSupported(String message) {
        super(message);
    }
}
