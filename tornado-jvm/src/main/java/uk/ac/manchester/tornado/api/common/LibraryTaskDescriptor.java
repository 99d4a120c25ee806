package uk.ac.manchester.tornado.api.common;

/**
 * A call to a function of an external native library (e.g. NVIDIA cuBLAS), run as a task of a
 * {@link uk.ac.manchester.tornado.api.TaskGraph}: built by a library binding's factory method, dispatched at launch
 * through the provider whose libraryName matches, with each array parameter resolved to its device buffer.
 */
public class LibraryTaskDescriptor {

    private String libraryName;
    private String functionName;
    private Object[] parameters;
    private Access[] access;
    private Object tuning;

    public LibraryTaskDescriptor withLibrary(String libraryName) {
        this.libraryName = libraryName;
        return this;
    }

    public LibraryTaskDescriptor withFunction(String functionName) {
        this.functionName = functionName;
        return this;
    }

    public LibraryTaskDescriptor withParameters(Object[] parameters) {
        this.parameters = parameters;
        return this;
    }

    public LibraryTaskDescriptor withAccess(Access[] access) {
        this.access = access;
        return this;
    }

    public String getLibraryName() {
        return libraryName;
    }

    public String getFunctionName() {
        return functionName;
    }

    public Object[] getParameters() {
        return parameters;
    }

    public Access[] getAccess() {
        return access;
    }

    /** Library-specific options (math mode, workspace size, ...), opaque to the runtime and read by the provider. */
    public LibraryTaskDescriptor withTuning(Object tuning) {
        this.tuning = tuning;
        return this;
    }

    public Object getTuning() {
        return tuning;
    }
}
