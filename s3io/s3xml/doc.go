// Package s3xml reads and writes two of S3's bucket configuration
// documents, CORSConfiguration and LifecycleConfiguration, as the S3 API
// defines them. The Store interface exchanges them as text; this package
// is how the stores (and their tests) turn that text into values and back.
//
// Parsing is strict, as S3 is: unknown or misplaced elements, an element
// given twice where S3 allows one, and values S3 would refuse (a rule
// without an action, an unknown HTTP method, ...) are errors that wrap
// s3io.ErrInvalidArgument and say what is wrong. Input may carry S3's
// namespace or none. Output is one line of XML with an XML declaration and
// S3's namespace; Parse(XML()) gives back an equal value.
package s3xml
